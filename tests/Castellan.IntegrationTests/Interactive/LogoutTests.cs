using System.Collections.Concurrent;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>RP-Initiated Logout 1.0 with front- and back-channel notification of the session's clients.</summary>
public sealed class LogoutTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly ConcurrentQueue<string> _logoutTokens = new();
    private TestApp _receiver = null!;
    private TestApp _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        var receiver = builder.Build();
        receiver.MapPost("/backchannel", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            _logoutTokens.Enqueue(form["logout_token"].ToString());
            return Results.Ok();
        });
        _receiver = await TestApp.StartAsync(receiver);
        _server = await InteractiveServer.StartAsync(_root, c =>
        {
            if (c.ClientId == InteractiveServer.WebClientId)
            {
                c.BackChannelLogoutUri = _receiver.BaseAddress + "/backchannel";
                c.AccessTokenType = AccessTokenType.Reference;
            }
        });
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
        _root.Dispose();
    }

    private async Task<(BrowserSession Browser, TokenResponse Tokens)> SignInAsync()
    {
        var browser = new BrowserSession(_server);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request);
        Assert.False(tokens.IsError, tokens.Error);
        return (browser, tokens);
    }

    private string EndSessionUrl(string? idTokenHint, string? postLogoutRedirectUri = InteractiveServer.PostLogoutRedirectUri, string? state = "s-123")
        => new RequestUrl(_server.BaseAddress + "/connect/endsession").CreateEndSessionUrl(idTokenHint, postLogoutRedirectUri, state);

    [Fact]
    public async Task Logout_with_id_token_hint_skips_the_prompt_notifies_the_clients_and_returns_with_state()
    {
        var (browser, tokens) = await SignInAsync();
        using var session = browser;
        var sid = new JsonWebToken(tokens.IdentityToken).GetClaim("sid").Value;

        var loggedOut = await browser.NavigateAsync(EndSessionUrl(tokens.IdentityToken));
        Assert.Equal("loggedout", loggedOut.Page);
        Assert.Equal(InteractiveServer.PostLogoutRedirectUri + "?state=s-123", loggedOut.Json.GetProperty("postLogoutRedirectUri").GetString());
        var frontChannel = loggedOut.Json.GetProperty("frontChannelLogoutUrls").EnumerateArray().Single().GetString();
        Assert.Equal($"https://app.example/frontchannel-logout?iss={Uri.EscapeDataString(_server.BaseAddress)}&sid={sid}", frontChannel);

        // The session is gone: prompt=none now needs a login.
        var silent = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "none"));
        Assert.Equal("login_required", silent.ResponseParameters["error"]);

        // The session's reference access token was revoked with it.
        var introspection = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            Token = tokens.AccessToken!,
        });
        Assert.False(introspection.IsActive);

        // Back-channel: a signed logout token reaches the client, in the background.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string? logoutToken;
        while (!_logoutTokens.TryPeek(out logoutToken) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.NotNull(logoutToken);
        var keys = new JsonWebKeySet(await _http.GetStringAsync("/.well-known/openid-configuration/jwks"));
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(logoutToken, new TokenValidationParameters
        {
            ValidIssuer = _server.BaseAddress,
            ValidAudience = InteractiveServer.WebClientId,
            IssuerSigningKeys = keys.GetSigningKeys(),
            ValidTypes = ["logout+jwt"],
        });
        Assert.True(validated.IsValid, validated.Exception?.Message);
        var jwt = (JsonWebToken)validated.SecurityToken;
        Assert.Equal(sid, jwt.GetClaim("sid").Value);
        Assert.Equal(InteractiveServer.SubjectId, jwt.Subject);
        Assert.False(jwt.TryGetClaim("nonce", out _));
        Assert.True(jwt.GetPayloadValue<System.Text.Json.JsonElement>("events").TryGetProperty("http://schemas.openid.net/event/backchannel-logout", out _));
        Assert.False(string.IsNullOrEmpty(jwt.Id));
    }

    [Fact]
    public async Task Logout_without_hint_asks_the_user_first()
    {
        var (browser, _) = await SignInAsync();
        using var __ = browser;
        var prompt = await browser.NavigateAsync("connect/endsession");
        Assert.Equal("logout", prompt.Page);
        Assert.True(prompt.Json.GetProperty("prompt").GetBoolean());

        // Still signed in until the user confirms.
        var silent = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "none"));
        Assert.True(silent.ResponseParameters.ContainsKey("code"));

        var done = await browser.PostFormAsync("account/logout", []);
        Assert.Equal("loggedout", done.Page);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, done.Json.GetProperty("postLogoutRedirectUri").ValueKind);
    }

    [Theory]
    [InlineData("https://app.example/signout-callback-oidc/")]
    [InlineData("https://app.example/signout-callback-oidc?x=1")]
    [InlineData("https://evil.example/signout-callback-oidc")]
    [InlineData("HTTPS://APP.EXAMPLE/signout-callback-oidc")]
    public async Task Unregistered_post_logout_redirect_uri_shows_the_error_page(string uri)
    {
        var (browser, tokens) = await SignInAsync();
        using var session = browser;
        var result = await browser.NavigateAsync(EndSessionUrl(tokens.IdentityToken, uri));
        Assert.Equal("error", result.Page);
        Assert.Null(result.ExternalLocation);
    }

    [Fact]
    public async Task Post_logout_redirect_uri_without_a_known_client_is_refused()
    {
        using var browser = new BrowserSession(_server);
        var result = await browser.NavigateAsync(EndSessionUrl(null));
        Assert.Equal("error", result.Page);
    }

    [Fact]
    public async Task Forged_id_token_hint_is_refused()
    {
        var (browser, tokens) = await SignInAsync();
        using var session = browser;
        var parts = tokens.IdentityToken!.Split('.');
        var forged = parts[0] + "." + parts[1] + "." + Base64UrlEncoder.Encode(new byte[256]);
        var result = await browser.NavigateAsync(EndSessionUrl(forged));
        Assert.Equal("error", result.Page);
    }

    [Fact]
    public async Task Id_token_hint_of_another_user_does_not_skip_the_prompt()
    {
        var (alice, _) = await SignInAsync();
        using var __ = alice;
        using var bob = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var back = await bob.SignInAsync(await bob.NavigateAsync(request.Url()), "bob", "bob-password");
        var bobs = await AuthorizationCodeFlowTests.RedeemAsync(_http, back.ResponseParameters["code"], request);

        var prompt = await alice.NavigateAsync(EndSessionUrl(bobs.IdentityToken));
        Assert.Equal("logout", prompt.Page);
    }

    [Fact]
    public async Task Repeated_parameters_in_the_query_are_refused_as_in_a_post()
    {
        var (browser, tokens) = await SignInAsync();
        using var session = browser;
        var url = EndSessionUrl(tokens.IdentityToken) + "&state=second";
        var result = await browser.NavigateAsync(url);
        Assert.Equal("error", result.Page);
    }

    [Fact]
    public async Task Oversized_state_or_hint_shows_the_error_page()
    {
        var (browser, tokens) = await SignInAsync();
        using var session = browser;
        Assert.Equal("error", (await browser.NavigateAsync(EndSessionUrl(tokens.IdentityToken, state: new string('s', 3000)))).Page);
        // A hint over the limit (a GET this long never passes Kestrel's request line limit, so POST).
        var posted = await browser.PostFormAsync("connect/endsession", [new("id_token_hint", new string('a', 9000))]);
        Assert.Equal("error", posted.Page);
    }
}
