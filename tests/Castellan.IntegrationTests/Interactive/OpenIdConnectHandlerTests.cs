using System.Net;
using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// Microsoft's OpenID Connect handler as the client, nobody here wrote it: code + PKCE with form_post, the id_token
/// and userinfo it validates, prompt and max_age through its challenge properties, and RP-initiated logout with its
/// signed-out callback and state check.
/// </summary>
public sealed partial class OpenIdConnectHandlerTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private TestApp _castellan = null!;
    private TestApp _client = null!;

    public async Task InitializeAsync()
    {
        var clientPort = TestApp.FreePort();
        var clientBase = $"http://127.0.0.1:{clientPort}";
        _castellan = await InteractiveServer.StartAsync(_root, c =>
        {
            if (c.ClientId == InteractiveServer.WebClientId)
            {
                c.RedirectUris.Add(clientBase + "/signin-oidc");
                c.PostLogoutRedirectUris.Add(clientBase + "/signout-callback-oidc");
            }
        });

        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path, clientPort));
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(o => o.Cookie.Name = ".Client.Session")
            .AddOpenIdConnect(o =>
            {
                o.Authority = _castellan.BaseAddress;
                // Plain http on loopback in a test; never elsewhere.
                o.RequireHttpsMetadata = false;
                o.ClientId = InteractiveServer.WebClientId;
                o.ClientSecret = InteractiveServer.WebSecret;
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.UsePkce = true;
                o.SaveTokens = true;
                o.GetClaimsFromUserInfoEndpoint = true;
                o.MapInboundClaims = false;
                o.Scope.Clear();
                foreach (var scope in new[] { "openid", "profile", "email", "api1", "offline_access" })
                {
                    o.Scope.Add(scope);
                }

                o.ClaimActions.MapUniqueJsonKey("email", "email");
                o.TokenValidationParameters.NameClaimType = "name";
                // Over http the correlation and nonce cookies cannot be SameSite=None; Secure.
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });
        var app = builder.Build();
        app.UseAuthentication();
        app.MapGet("/login", (HttpContext context, string? prompt, int? maxAge) => Results.Challenge(
            new OpenIdConnectChallengeProperties { RedirectUri = "/me", Prompt = prompt, MaxAge = maxAge is { } s ? TimeSpan.FromSeconds(s) : null },
            [OpenIdConnectDefaults.AuthenticationScheme]));
        app.MapGet("/me", async (HttpContext context) =>
        {
            var result = await context.AuthenticateAsync();
            if (!result.Succeeded)
            {
                return Results.Json(new { signedIn = false });
            }

            return Results.Json(new
            {
                signedIn = true,
                claims = result.Principal!.Claims.GroupBy(c => c.Type).ToDictionary(g => g.Key, g => g.First().Value),
                refreshToken = result.Properties!.GetTokenValue("refresh_token") is { Length: > 0 },
            });
        });
        app.MapGet("/logout", () => Results.SignOut(new AuthenticationProperties { RedirectUri = "/me" },
            [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]));
        _client = await TestApp.StartAsync(app);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _castellan.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Handler_signs_in_with_code_pkce_and_form_post_and_reads_userinfo()
    {
        using var browser = new Browser();
        var login = await browser.GoAsync(_client.BaseAddress + "/login");
        Assert.Equal("login", Page(login));
        var me = await browser.SignInAsync(login);

        var json = JsonDocument.Parse(me.Body).RootElement;
        Assert.True(json.GetProperty("signedIn").GetBoolean(), me.Body);
        var claims = json.GetProperty("claims");
        Assert.Equal(InteractiveServer.SubjectId, claims.GetProperty("sub").GetString());
        Assert.Equal("Alice Smith", claims.GetProperty("name").GetString());
        Assert.Equal("alice@example.com", claims.GetProperty("email").GetString());
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("sid").GetString()));
        Assert.True(json.GetProperty("refreshToken").GetBoolean());
        Assert.True(browser.SawFormPost, "The handler's default response_mode is form_post.");
    }

    [Fact]
    public async Task Handler_prompt_login_and_max_age_zero_force_a_new_sign_in()
    {
        using var browser = new Browser();
        await browser.SignInAsync(await browser.GoAsync(_client.BaseAddress + "/login"));

        // With the session, a plain challenge goes through silently.
        var silent = await browser.GoAsync(_client.BaseAddress + "/login");
        Assert.True(JsonDocument.Parse(silent.Body).RootElement.GetProperty("signedIn").GetBoolean());

        foreach (var query in new[] { "?prompt=login", "?maxAge=0" })
        {
            var again = await browser.GoAsync(_client.BaseAddress + "/login" + query);
            Assert.Equal("login", Page(again));
            var me = await browser.SignInAsync(again);
            Assert.True(JsonDocument.Parse(me.Body).RootElement.GetProperty("signedIn").GetBoolean(), me.Body);
        }
    }

    [Fact]
    public async Task Handler_rp_initiated_logout_ends_both_sessions_and_returns_with_its_state()
    {
        using var browser = new Browser();
        await browser.SignInAsync(await browser.GoAsync(_client.BaseAddress + "/login"));

        var loggedOut = await browser.GoAsync(_client.BaseAddress + "/logout");
        // id_token_hint proved the session: no prompt, straight to the logged-out page with the way back.
        Assert.Equal("loggedout", Page(loggedOut));
        var back = JsonDocument.Parse(loggedOut.Body).RootElement.GetProperty("postLogoutRedirectUri").GetString()!;
        Assert.StartsWith(_client.BaseAddress + "/signout-callback-oidc?state=", back, StringComparison.Ordinal);

        // The handler checks its state and finishes at /me, signed out.
        var me = await browser.GoAsync(back);
        Assert.False(JsonDocument.Parse(me.Body).RootElement.GetProperty("signedIn").GetBoolean());

        // And Castellan's session is gone: the next challenge lands on the login page.
        Assert.Equal("login", Page(await browser.GoAsync(_client.BaseAddress + "/login")));
    }

    private static string? Page(Browser.Result result)
        => result.Body.StartsWith('{') && JsonDocument.Parse(result.Body).RootElement.TryGetProperty("page", out var page) ? page.GetString() : null;

    /// <summary>A cookie jar that follows redirects on every server and submits form_post pages, as a browser does.</summary>
    private sealed partial class Browser : IDisposable
    {
        private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });

        public bool SawFormPost { get; private set; }

        public sealed record Result(Uri Url, string Body);

        public Task<Result> GoAsync(string url) => FollowAsync(new HttpRequestMessage(HttpMethod.Get, url));

        public Task<Result> SignInAsync(Result loginPage)
        {
            var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(loginPage.Url.Query)["ReturnUrl"].ToString();
            return FollowAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(loginPage.Url, "/account/login"))
            {
                Content = new FormUrlEncodedContent([new("username", InteractiveServer.Username), new("password", InteractiveServer.Password), new("ReturnUrl", returnUrl)]),
            });
        }

        private async Task<Result> FollowAsync(HttpRequestMessage request)
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await _http.SendAsync(request);
                var url = request.RequestUri!;
                if ((int)response.StatusCode is >= 300 and < 400)
                {
                    request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, response.Headers.Location!));
                    continue;
                }

                var body = await response.Content.ReadAsStringAsync();
                if (response.Content.Headers.ContentType?.MediaType == "text/html" && FormPost().Match(body) is { Success: true } form)
                {
                    // The form_post page: what its script would submit.
                    SawFormPost = true;
                    var fields = Field().Matches(body).Select(m => new KeyValuePair<string, string>(m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value)));
                    request = new HttpRequestMessage(HttpMethod.Post, WebUtility.HtmlDecode(form.Groups[1].Value)) { Content = new FormUrlEncodedContent(fields) };
                    continue;
                }

                return new Result(url, body);
            }

            throw new InvalidOperationException("Too many redirects.");
        }

        public void Dispose() => _http.Dispose();

        [GeneratedRegex("<form method=\"post\" action=\"([^\"]+)\">")]
        private static partial Regex FormPost();

        [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
        private static partial Regex Field();
    }
}
