using System.Net;
using Castellan.Interaction;

namespace Castellan.IntegrationTests.Ui;

/// <summary>The logout page: a confirmation unless the engine vouches for the request, then the logged-out view.</summary>
public sealed class LogoutPageTests
{
    private const string LogoutPath = "account/logout?logoutId=lo-1";

    private static LoggedOutContext LoggedOut() => new()
    {
        ClientName = "Web App",
        PostLogoutRedirectUri = "https://app.example.com/signout-callback-oidc?state=s1",
        FrontChannelLogoutUrls = ["https://app.example.com/fc-logout?iss=x&sid=y", "https://other.example:8443/logout", "javascript:alert(1)"],
    };

    [Fact]
    public async Task A_logout_without_proof_asks_first_and_signs_out_only_on_a_post()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.Logout = new LogoutContext { ShowSignOutPrompt = true, IsAuthenticated = true };

        var (response, document) = await host.GetPageAsync(LogoutPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(host.Interaction.SignOuts);
        var form = document.QuerySelector("#logout-form")!;
        var yes = form.QuerySelector("button[name=logout][value=yes]");
        Assert.NotNull(yes);
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());

        host.Interaction.LoggedOut = LoggedOut();
        using var signedOut = await host.SubmitAsync(form, LogoutPath, yes);

        Assert.Equal(HttpStatusCode.OK, signedOut.StatusCode);
        Assert.Equal(["lo-1"], host.Interaction.SignOuts);
        AssertLoggedOutView(signedOut, UiHost.Parse(await signedOut.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_logout_the_engine_vouches_for_signs_out_at_once()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.Logout = new LogoutContext { ShowSignOutPrompt = false, IsAuthenticated = true };
        host.Interaction.LoggedOut = LoggedOut();

        var (response, document) = await host.GetPageAsync(LogoutPath);

        Assert.Equal(["lo-1"], host.Interaction.SignOuts);
        AssertLoggedOutView(response, document);
    }

    [Fact]
    public async Task The_logged_out_view_works_without_a_way_back()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.Logout = new LogoutContext { ShowSignOutPrompt = false, IsAuthenticated = true };

        var (response, document) = await host.GetPageAsync("account/logout");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("You are signed out", document.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        Assert.Null(document.QuerySelector("#post-logout-redirect"));
        Assert.Null(document.QuerySelector("script"));
        Assert.Contains("frame-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_post_without_an_antiforgery_token_is_refused_and_signs_nobody_out()
    {
        await using var host = await UiHost.StartAsync();

        using var response = await host.PostAsync(LogoutPath, [new("logout", "yes")]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.Interaction.SignOuts);
    }

    private static void AssertLoggedOutView(HttpResponseMessage response, AngleSharp.Html.Dom.IHtmlDocument document)
    {
        Assert.Contains("You are signed out", document.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        var link = document.QuerySelector("a#post-logout-redirect")!;
        Assert.Equal("https://app.example.com/signout-callback-oidc?state=s1", link.GetAttribute("href"));
        Assert.Equal("Return to Web App", link.TextContent);

        // Hidden iframes for the http(s) URLs only, and the CSP lets exactly their origins be framed.
        var frames = document.QuerySelectorAll("iframe").ToList();
        Assert.Equal(["https://app.example.com/fc-logout?iss=x&sid=y", "https://other.example:8443/logout"], frames.Select(f => f.GetAttribute("src")!));
        Assert.All(frames, f =>
        {
            Assert.True(f.HasAttribute("hidden"));
            Assert.Equal("0", f.GetAttribute("width"));
            Assert.Equal("0", f.GetAttribute("height"));
        });
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-src https://app.example.com https://other.example:8443;", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);

        // The optional script is the hashed one, so a browser runs it, and nothing else.
        var script = Assert.Single(document.QuerySelectorAll("script"));
        Assert.Contains($"script-src {SecurityHeaderTests.Hash(script.TextContent)};", csp, StringComparison.Ordinal);
    }
}
