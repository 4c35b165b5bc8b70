using System.Net;
using Castellan.Interaction;

namespace Castellan.IntegrationTests.Ui;

/// <summary>The consent page: the requested scopes as documented checkboxes, and the decision handed to the engine.</summary>
public sealed class ConsentPageTests
{
    private const string ReturnUrl = "/connect/authorize/callback?request=consent";
    private const string ConsentPath = "consent?ReturnUrl=%2Fconnect%2Fauthorize%2Fcallback%3Frequest%3Dconsent";

    private static readonly ConsentScope[] Scopes =
    [
        new("openid", "Your user identifier", null, Required: true, Emphasize: false, IsIdentityScope: true),
        new("profile", "Your profile", "Name, picture and locale", Required: false, Emphasize: false, IsIdentityScope: true),
        new("email", "Your email address", null, Required: false, Emphasize: false, IsIdentityScope: true),
        new("payments", "Make payments", "Moves money from your account", Required: false, Emphasize: true, IsIdentityScope: false),
    ];

    [Fact]
    public async Task Consent_page_lists_every_requested_scope_checked_with_required_ones_locked()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(logoUri: "https://app.example.com/logo.png"), Scopes);

        var (response, document) = await host.GetPageAsync(ConsentPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Web App", document.QuerySelector(".client-name")!.TextContent);
        Assert.Equal("https://app.example.com/logo.png", document.QuerySelector(".client img")!.GetAttribute("src"));
        foreach (var scope in Scopes)
        {
            var box = document.QuerySelector($"input[type=checkbox][name=scopes][value={scope.Name}]")!;
            Assert.True(box.HasAttribute("checked"), scope.Name);
            Assert.Equal(scope.Required, box.HasAttribute("disabled"));
            Assert.Equal(scope.Required, document.QuerySelector($"input[type=hidden][name=scopes][value={scope.Name}]") is not null);
        }

        var payments = document.QuerySelector("input[value=payments]")!.Closest("li")!;
        Assert.Contains("emphasize", payments.ClassList);
        Assert.Contains("sensitive", payments.TextContent, StringComparison.Ordinal);
        Assert.NotNull(document.QuerySelector("input[type=checkbox][name=remember]"));
        Assert.NotNull(document.QuerySelector("button[name=decision][value=allow]"));
        Assert.NotNull(document.QuerySelector("button[name=decision][value=deny]"));
    }

    [Theory]
    [InlineData("http://app.example.com/logo.png")]
    [InlineData("javascript:alert(1)")]
    [InlineData("/logo.png")]
    public async Task A_logo_that_is_not_an_absolute_https_url_is_not_shown(string logo)
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(logoUri: logo), Scopes);

        var (_, document) = await host.GetPageAsync(ConsentPath);

        Assert.Null(document.QuerySelector(".client img"));
    }

    [Fact]
    public async Task Allow_grants_the_checked_scopes_and_the_required_ones_and_follows_the_engine()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(), Scopes);
        var (_, document) = await host.GetPageAsync(ConsentPath);
        var form = document.QuerySelector("#consent-form")!;
        form.QuerySelector("input[type=checkbox][value=email]")!.RemoveAttribute("checked");

        // A scope the request did not ask for is ignored, whatever the form carries.
        using var response = await host.SubmitAsync(form, ConsentPath, form.QuerySelector("button[value=allow]"), ("remember", "true"));
        using var forged = await host.SubmitAsync(form, ConsentPath, form.QuerySelector("button[value=allow]"), ("scopes", "admin"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(FakeInteraction.ConsentedUrl, response.Headers.Location!.OriginalString);
        var decisions = host.Interaction.Consents.ToList();
        Assert.Equal(ReturnUrl, decisions[0].ReturnUrl);
        Assert.True(decisions[0].Decision.Allow);
        Assert.True(decisions[0].Decision.Remember);
        Assert.Equal(["openid", "payments", "profile"], decisions[0].Decision.ScopesGranted.Order(StringComparer.Ordinal));
        Assert.Equal(["openid"], decisions[1].Decision.ScopesGranted);
    }

    [Fact]
    public async Task Deny_tells_the_engine_the_user_said_no()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(), Scopes);
        var (_, document) = await host.GetPageAsync(ConsentPath);
        var form = document.QuerySelector("#consent-form")!;

        using var response = await host.SubmitAsync(form, ConsentPath, form.QuerySelector("button[value=deny]"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(FakeInteraction.DeniedUrl, response.Headers.Location!.OriginalString);
        var decision = Assert.Single(host.Interaction.Consents).Decision;
        Assert.False(decision.Allow);
        Assert.Empty(decision.ScopesGranted);
        Assert.False(decision.Remember);
    }

    [Fact]
    public async Task A_client_that_may_not_be_remembered_gets_no_remember_box_and_a_posted_one_is_ignored()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(allowRememberConsent: false), Scopes);
        var (_, document) = await host.GetPageAsync(ConsentPath);
        var form = document.QuerySelector("#consent-form")!;

        Assert.Null(form.QuerySelector("input[name=remember]"));
        using var response = await host.SubmitAsync(form, ConsentPath, form.QuerySelector("button[value=allow]"), ("remember", "true"));

        Assert.False(Assert.Single(host.Interaction.Consents).Decision.Remember);
    }

    [Fact]
    public async Task Allowing_nothing_asks_again_instead_of_granting_an_empty_set()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(), [Scopes[1], Scopes[3]]);
        var (_, document) = await host.GetPageAsync(ConsentPath);
        var form = document.QuerySelector("#consent-form")!;

        using var response = await host.SubmitAsync(form, ConsentPath, form.QuerySelector("button[value=allow]"), ("scopes", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Castellan.Host.Pages.ConsentModel.NothingSelectedMessage, UiHost.Parse(await response.Content.ReadAsStringAsync()).QuerySelector(".message")!.TextContent);
        Assert.Empty(host.Interaction.Consents);
    }

    [Theory]
    [InlineData("consent")]
    [InlineData("consent?ReturnUrl=%2Fconnect%2Fauthorize%2Fcallback%3Fexpired")]
    [InlineData("consent?ReturnUrl=https%3A%2F%2Fevil.example")]
    public async Task Without_a_pending_request_the_page_shows_an_error_and_no_form(string path)
    {
        await using var host = await UiHost.StartAsync();

        var (response, document) = await host.GetPageAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(document.QuerySelector("form"));
        Assert.Contains("no longer valid", document.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", document.DocumentElement.OuterHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_forms_may_lead_to_the_clients_redirect_uri_origin()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.AddPending(ReturnUrl, UiHost.WebClient(), Scopes);

        var (response, _) = await host.GetPageAsync(ConsentPath);

        // The consent POST ends in a redirect to the client, which form-action must allow.
        Assert.Contains("form-action 'self' https://app.example.com;", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }
}
