using System.Net;
using AngleSharp.Html.Dom;
using Castellan.Host.Pages.Account;
using Castellan.Sessions;

namespace Castellan.IntegrationTests.Ui;

/// <summary>The login page: its HTML contract, antiforgery, redirects only into pending requests, and one message for every failure.</summary>
public sealed class LoginPageTests
{
    private const string ReturnUrl = "/connect/authorize/callback?request=abc";

    private static string LoginPath(string? returnUrl = ReturnUrl)
        => returnUrl is null ? "account/login" : "account/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);

    [Fact]
    public async Task Login_page_has_the_documented_form_and_its_first_submit_button_signs_in()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(), loginHint: "alice");

        var (response, document) = await host.GetPageAsync(LoginPath());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var form = Assert.Single(document.QuerySelectorAll("form"), f => f.QuerySelector("input[name=username]") is not null);
        Assert.Equal("alice", ((IHtmlInputElement)form.QuerySelector("input[name=username]")!).Value);
        Assert.NotNull(form.QuerySelector("input[name=password][type=password]"));
        var buttons = form.QuerySelectorAll("button[type=submit]").ToList();
        Assert.Equal("login", buttons[0].GetAttribute("value"));
        Assert.Equal(["button", "cancel"], [buttons[1].GetAttribute("name")!, buttons[1].GetAttribute("value")!]);
        Assert.NotNull(form.QuerySelector("input[name=__RequestVerificationToken]"));
        Assert.Contains("Web App", document.QuerySelector("main")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_without_an_antiforgery_token_is_refused_and_signs_nobody_in()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");

        // A login CSRF: another site posts its own credentials to sign the victim in as the attacker.
        using var response = await host.PostAsync(LoginPath(null), [new("username", "alice"), new("password", "alice-password"), new("button", "login")]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.SignIn.Attempts);
    }

    [Fact]
    public async Task Successful_sign_in_redirects_with_302_to_the_pending_request()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient());
        host.SignIn.AddUser("alice", "alice-password");

        using var response = await SignInAsync(host, LoginPath(), "alice", "alice-password");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(ReturnUrl, response.Headers.Location!.OriginalString);
        Assert.Equal(["sub-alice"], host.SignIn.SignedIn);
    }

    [Fact]
    public async Task Without_a_return_url_the_page_still_signs_in_and_goes_home()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");

        using var response = await SignInAsync(host, LoginPath(null), "alice", "alice-password");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("https://evil.example")]
    [InlineData("http://evil.example/connect/authorize")]
    [InlineData("/\\evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("\\\\evil.example")]
    [InlineData(" //evil.example")]
    [InlineData("evil.example")]
    public async Task An_open_redirect_attempt_goes_home_even_if_the_engine_accepted_it(string hostile)
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");

        // The fake engine calls the URL valid: the page's own local-only check must still refuse it.
        host.Interaction.AddPending(hostile, UiHost.WebClient());

        using var response = await SignInAsync(host, LoginPath(hostile), "alice", "alice-password");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_local_url_the_engine_did_not_issue_goes_home()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");

        using var response = await SignInAsync(host, LoginPath("/connect/authorize/callback?forged"), "alice", "alice-password");

        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_the_same_generic_message()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");

        using var wrongPassword = await SignInAsync(host, LoginPath(null), "alice", "not-her-password");
        using var unknownUser = await SignInAsync(host, LoginPath(null), "mallory", "not-her-password");

        Assert.Equal(HttpStatusCode.OK, wrongPassword.StatusCode);
        Assert.Equal(wrongPassword.StatusCode, unknownUser.StatusCode);
        var first = await wrongPassword.Content.ReadAsStringAsync();
        var second = await unknownUser.Content.ReadAsStringAsync();
        Assert.Equal(LoginModel.InvalidCredentialsMessage, UiHost.Parse(first).QuerySelector(".message")!.TextContent);
        Assert.Equal(LoginModel.InvalidCredentialsMessage, UiHost.Parse(second).QuerySelector(".message")!.TextContent);
        Assert.DoesNotContain("not-her-password", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inactive_user_gets_the_generic_message_too()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("bob", "bob-password", isActive: false);

        using var response = await SignInAsync(host, LoginPath(null), "bob", "bob-password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(LoginModel.InvalidCredentialsMessage, UiHost.Parse(await response.Content.ReadAsStringAsync()).QuerySelector(".message")!.TextContent);
    }

    [Fact]
    public async Task After_five_failures_the_page_answers_429_with_its_own_message()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.AddUser("alice", "alice-password");
        for (var i = 0; i < FakeSignIn.MaxFailures; i++)
        {
            using var failed = await SignInAsync(host, LoginPath(null), "alice", "guess-" + i);
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        using var response = await SignInAsync(host, LoginPath(null), "alice", "alice-password");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        Assert.Equal(LoginModel.ThrottledMessage, UiHost.Parse(await response.Content.ReadAsStringAsync()).QuerySelector(".message")!.TextContent);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Cancel_answers_the_client_with_access_denied_through_the_engine()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient());
        var (_, document) = await host.GetPageAsync(LoginPath());
        var form = document.QuerySelector("#login-form")!;

        using var response = await host.SubmitAsync(form, LoginPath(), form.QuerySelector("button[value=cancel]"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(FakeInteraction.DeniedUrl, response.Headers.Location!.OriginalString);
        Assert.Equal([ReturnUrl], host.Interaction.Denied);
        Assert.Empty(host.SignIn.Attempts);
    }

    [Fact]
    public async Task Cancel_without_a_pending_request_goes_home()
    {
        await using var host = await UiHost.StartAsync();
        var (_, document) = await host.GetPageAsync(LoginPath("/connect/authorize/callback?gone"));
        var form = document.QuerySelector("#login-form")!;

        using var response = await host.SubmitAsync(form, LoginPath("/connect/authorize/callback?gone"), form.QuerySelector("button[value=cancel]"));

        Assert.Equal("/", response.Headers.Location!.OriginalString);
        Assert.Empty(host.Interaction.Denied);
    }

    [Fact]
    public async Task A_signed_in_user_is_offered_to_continue_unless_the_client_asks_for_a_new_sign_in()
    {
        await using var host = await UiHost.StartAsync();
        host.SignIn.Session = new UserSession("1", "sid", DateTimeOffset.UnixEpoch, ["pwd"], "Alice Smith", []);
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient());
        host.Interaction.AddPending(ReturnUrl + "&prompt=login", UiHost.WebClient(), reauthenticate: true);

        var (_, offered) = await host.GetPageAsync(LoginPath());
        var (_, reauthenticate) = await host.GetPageAsync(LoginPath(ReturnUrl + "&prompt=login"));

        var link = offered.QuerySelector("a#continue")!;
        Assert.Equal(ReturnUrl, link.GetAttribute("href"));
        Assert.Contains("Continue as Alice Smith", link.TextContent, StringComparison.Ordinal);
        Assert.Null(reauthenticate.QuerySelector("a#continue"));
        Assert.NotNull(reauthenticate.QuerySelector("input[name=password]"));
    }

    [Fact]
    public async Task An_invalid_return_url_is_not_carried_into_the_form()
    {
        await using var host = await UiHost.StartAsync();

        var (response, document) = await host.GetPageAsync(LoginPath("https://evil.example/x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(document.QuerySelector("input[name=ReturnUrl]"));
        Assert.DoesNotContain("evil.example", document.DocumentElement.OuterHtml, StringComparison.Ordinal);
    }

    /// <summary>Loads the page (antiforgery cookie and token), fills the form and clicks its first submit button.</summary>
    internal static async Task<HttpResponseMessage> SignInAsync(UiHost host, string path, string username, string password)
    {
        var (_, document) = await host.GetPageAsync(path);
        var form = document.QuerySelector("#login-form")!;
        return await host.SubmitAsync(form, path, form.QuerySelector("button[type=submit]"), ("username", username), ("password", password));
    }
}
