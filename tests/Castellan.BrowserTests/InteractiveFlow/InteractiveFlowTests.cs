using Castellan.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using WebApp.Logout;

namespace Castellan.BrowserTests.InteractiveFlow;

/// <summary>
/// The whole interactive flow in a real browser: the web app signs in at Castellan (authorize endpoint with code +
/// PKCE and form_post, login and consent pages, token endpoint, userinfo), calls the API with a refreshed token, and
/// signs out (end-session endpoint, logout pages, front- and back-channel logout).
/// </summary>
/// <remarks>
/// They drive the whole server side of the interactive flow (authorize, token code and refresh grants, userinfo,
/// end-session, and the host's login, consent and logout pages) through the real host.
/// </remarks>
public sealed class InteractiveFlowTests(BrowserFixture browser, InteractiveFlowServers servers)
    : IClassFixture<BrowserFixture>, IClassFixture<InteractiveFlowServers>
{
    private static readonly TimeSpan LogoutTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task User_signs_in_with_consent_calls_the_api_and_signs_out_everywhere()
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var flow = new FlowSteps(page, servers, nameof(User_signs_in_with_consent_calls_the_api_and_signs_out_everywhere));
        var alice = InteractiveFlowServers.Alice;

        await flow.OpenWebAppAndClickSignInAsync();
        await flow.LogInAsync(alice);
        await flow.ConsentAsync(remember: true);
        var claims = await flow.SignedInClaimsAsync(alice);

        await flow.StepAsync("the session's claims: sub, name, email, sid", () =>
        {
            Assert.Equal(alice.SubjectId, claims.GetValueOrDefault("sub"));
            Assert.Equal("Alice Smith", claims.GetValueOrDefault("name"));
            // email comes with the email scope, from the id_token or from userinfo.
            Assert.Equal("alice@example.com", claims.GetValueOrDefault("email"));
            // Front- and back-channel logout find the session by its sid (OIDC Front-Channel Logout §3, Back-Channel §2.4).
            Assert.False(string.IsNullOrEmpty(claims.GetValueOrDefault("sid")), "The id_token has no sid claim.");
            return Task.CompletedTask;
        });
        var sid = claims["sid"];

        await flow.StepAsync("call API page: the token is refreshed, the API answers with the user's claims", async () =>
        {
            await page.GotoAsync(servers.WebAppBaseUrl + "/call-api");
            // The client's access tokens live 30 s, within the web app's 60 s margin: the refresh grant ran.
            await Assertions.Expect(page.Locator("#token-refreshed")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#api-status")).ToHaveTextAsync("200");
            var answer = await page.Locator("#api-response").InnerTextAsync();
            Assert.Contains($"\"value\": \"{alice.SubjectId}\"", answer, StringComparison.Ordinal);
            Assert.Contains("\"value\": \"api1\"", answer, StringComparison.Ordinal);
        });

        await flow.SignOutAsync();
        await flow.ConfirmLogoutIfAskedAsync(() => FrontChannelReceived(sid), LogoutTimeout);

        await flow.StepAsync("front-channel logout: the logged-out page framed the web app's endpoint with iss and sid", () =>
        {
            var frontChannel = servers.WebAppLogouts.Received.First(n => n.Channel == LogoutChannel.FrontChannel && n.SessionId == sid);
            Assert.Equal(servers.Authority, frontChannel.Issuer);
            return Task.CompletedTask;
        });

        await flow.StepAsync("back-channel logout: a valid logout token for the session reached the web app", () =>
            Poll.UntilAsync(() => servers.WebAppLogouts.Received.Any(n => n.Channel == LogoutChannel.BackChannel && n.SessionId == sid),
                LogoutTimeout, "the back-channel logout token to reach the web app"));

        await flow.StepAsync("back on the web app, signed out", async () =>
        {
            // Castellan's logged-out page may send the browser back (post_logout_redirect_uri) or offer a link.
            var back = page.Locator($"a[href^='{servers.WebAppBaseUrl}/']");
            if (!page.Url.StartsWith(servers.WebAppBaseUrl + "/", StringComparison.Ordinal) && await back.CountAsync() > 0)
            {
                await back.First.ClickAsync();
            }

            await page.WaitForURLAsync(url => url.StartsWith(servers.WebAppBaseUrl + "/", StringComparison.Ordinal));
            await page.GotoAsync(servers.WebAppBaseUrl + "/");
            await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task Castellan_pages_refuse_to_be_framed()
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var flow = new FlowSteps(page, servers, nameof(Castellan_pages_refuse_to_be_framed));
        var pages = new List<IResponse>();
        page.Response += (_, response) =>
        {
            // Castellan's own documents in the top frame: its pages, not the web app's iframes or scripts.
            if (response.Request.ResourceType == "document" && response.Frame == page.MainFrame
                && response.Url.StartsWith(servers.Authority + "/", StringComparison.Ordinal) && response.Status == 200)
            {
                lock (pages)
                {
                    pages.Add(response);
                }
            }
        };
        var bob = InteractiveFlowServers.Bob;

        await flow.OpenWebAppAndClickSignInAsync();
        await flow.LogInAsync(bob);
        await flow.ConsentAsync(remember: false);
        var claims = await flow.SignedInClaimsAsync(bob);
        await flow.SignOutAsync();
        await flow.ConfirmLogoutIfAskedAsync(() => FrontChannelReceived(claims.GetValueOrDefault("sid")), LogoutTimeout);

        await flow.StepAsync("every Castellan page sent X-Frame-Options DENY and frame-ancestors 'none'", () =>
        {
            IResponse[] seen;
            lock (pages)
            {
                seen = [.. pages];
            }

            // Login, consent, and the logout or logged-out page at least.
            Assert.True(seen.Length >= 3, $"Expected Castellan's login, consent and logout pages; saw: {string.Join(", ", seen.Select(p => p.Url))}");
            foreach (var response in seen)
            {
                var headers = response.Headers;
                Assert.True(headers.TryGetValue("x-frame-options", out var frameOptions) && string.Equals(frameOptions, "DENY", StringComparison.OrdinalIgnoreCase),
                    $"{response.Url}: X-Frame-Options is '{frameOptions}', not DENY.");
                Assert.True(headers.TryGetValue("content-security-policy", out var csp) && csp.Contains("frame-ancestors 'none'", StringComparison.Ordinal),
                    $"{response.Url}: Content-Security-Policy is '{csp}', without frame-ancestors 'none'.");
            }

            return Task.CompletedTask;
        });
    }

    private bool FrontChannelReceived(string? sid)
        => sid is not null && servers.WebAppLogouts.Received.Any(n => n.Channel == LogoutChannel.FrontChannel && n.SessionId == sid);
}
