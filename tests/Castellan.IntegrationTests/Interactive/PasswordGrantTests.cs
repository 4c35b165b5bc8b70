using System.Net;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// The resource owner password credentials grant (RFC 6749 §4.3), for clients that list it: tokens for the user,
/// one error for every bad credential, and the login page's per-account throttle.
/// </summary>
public sealed class PasswordGrantTests : TokenServerTest, IDisposable
{
    private const string PasswordClientId = "legacy-app";
    private const string OtherPasswordClientId = "legacy-app-2";
    private const string PasswordSecret = "legacy-secret-0123456789";

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private BrowserSession? _browser;

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, time: _clock, configure: c => c.AddInMemoryClients(
    [
        PasswordClient(PasswordClientId),
        PasswordClient(OtherPasswordClientId),
    ]));

    public void Dispose() => _browser?.Dispose();

    [Fact]
    public async Task Password_client_gets_tokens_for_the_user_without_a_session_id()
    {
        var tokens = await RequestAsync(InteractiveServer.Username, InteractiveServer.Password);
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);

        var access = new JsonWebToken(tokens.AccessToken);
        Assert.Equal(InteractiveServer.SubjectId, access.Subject);
        Assert.Equal(PasswordClientId, access.GetClaim("client_id").Value);
        // No browser session: nothing to log out of, so no sid.
        Assert.False(access.TryGetClaim("sid", out _));
        if (tokens.IdentityToken is { } idToken)
        {
            var id = new JsonWebToken(idToken);
            Assert.Equal(InteractiveServer.SubjectId, id.Subject);
            Assert.False(id.TryGetClaim("sid", out _));
        }

        var userInfo = await Http.GetUserInfoAsync(new UserInfoRequest { Address = "connect/userinfo", Token = tokens.AccessToken });
        Assert.False(userInfo.IsError, userInfo.Error);
        Assert.Equal("Alice Smith", userInfo.Json!.Value.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Wrong_password_is_invalid_grant()
    {
        var tokens = await RequestAsync(InteractiveServer.Username, "wrong-password");
        AssertInvalidGrant(tokens);
        Assert.DoesNotContain("wrong-password", tokens.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_user_gets_the_same_answer_as_a_wrong_password()
    {
        var wrongPassword = await RequestAsync(InteractiveServer.Username, "wrong-password");
        var unknownUser = await RequestAsync("mallory", "wrong-password");

        AssertInvalidGrant(unknownUser);
        Assert.Equal(wrongPassword.Raw, unknownUser.Raw);
        Assert.Equal(wrongPassword.HttpStatusCode, unknownUser.HttpStatusCode);
    }

    [Fact]
    public async Task Client_without_the_password_grant_is_unauthorized_client()
    {
        var tokens = await Http.RequestPasswordTokenAsync(new PasswordTokenRequest
        {
            Address = "connect/token",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            UserName = InteractiveServer.Username,
            Password = InteractiveServer.Password,
            Scope = "openid api1",
        });
        Assert.Equal(HttpStatusCode.BadRequest, tokens.HttpStatusCode);
        Assert.Equal("unauthorized_client", tokens.Error);
    }

    [Fact]
    public async Task Missing_password_is_invalid_request()
    {
        var tokens = await Http.RequestTokenAsync(new TokenRequest
        {
            Address = "connect/token",
            GrantType = "password",
            ClientId = PasswordClientId,
            ClientSecret = PasswordSecret,
            Parameters = { { "username", InteractiveServer.Username } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, tokens.HttpStatusCode);
        Assert.Equal("invalid_request", tokens.Error);
    }

    [Fact]
    public async Task Scope_the_client_may_not_request_is_invalid_scope()
    {
        var tokens = await RequestAsync(InteractiveServer.Username, InteractiveServer.Password, scope: "openid api2");
        Assert.Equal(HttpStatusCode.BadRequest, tokens.HttpStatusCode);
        Assert.Equal("invalid_scope", tokens.Error);
    }

    [Fact]
    public async Task Five_failures_throttle_the_account_so_the_right_password_is_refused()
    {
        await FailAsync(InteractiveServer.Username, 5);

        var tokens = await RequestAsync(InteractiveServer.Username, InteractiveServer.Password);
        AssertInvalidGrant(tokens);
        Assert.Null(tokens.AccessToken);
    }

    [Fact]
    public async Task Four_failures_do_not_throttle()
    {
        await FailAsync(InteractiveServer.Username, 4);
        var tokens = await RequestAsync(InteractiveServer.Username, InteractiveServer.Password);
        Assert.False(tokens.IsError, tokens.Error);
    }

    [Fact]
    public async Task Throttle_counts_per_account_not_per_client()
    {
        await FailAsync(InteractiveServer.Username, 3, PasswordClientId);
        await FailAsync(InteractiveServer.Username.ToUpperInvariant(), 2, OtherPasswordClientId);

        AssertInvalidGrant(await RequestAsync(InteractiveServer.Username, InteractiveServer.Password, clientId: PasswordClientId));
        AssertInvalidGrant(await RequestAsync(InteractiveServer.Username, InteractiveServer.Password, clientId: OtherPasswordClientId));

        // Another account of the same client is not throttled.
        var bob = await RequestAsync("bob", "bob-password");
        Assert.False(bob.IsError, bob.Error);
        Assert.Equal("bob-2", new JsonWebToken(bob.AccessToken).Subject);
    }

    [Fact]
    public async Task Throttled_account_is_throttled_at_the_login_page_too()
    {
        await FailAsync(InteractiveServer.Username, 5);

        _browser = new BrowserSession(Server);
        var login = await _browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url());
        Assert.Equal("login", login.Page);
        var result = await _browser.SignInAsync(login);
        Assert.Equal((HttpStatusCode)429, result.Response.StatusCode);
        Assert.Equal("Throttled", result.Json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Throttle_lifts_once_the_failures_leave_the_window()
    {
        await FailAsync(InteractiveServer.Username, 5);
        AssertInvalidGrant(await RequestAsync(InteractiveServer.Username, InteractiveServer.Password));

        _clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var tokens = await RequestAsync(InteractiveServer.Username, InteractiveServer.Password);
        Assert.False(tokens.IsError, tokens.Error);
    }

    private static Client PasswordClient(string clientId) => new()
    {
        ClientId = clientId,
        ClientSecrets = { Secret.FromPlainText(PasswordSecret) },
        AllowedGrantTypes = { GrantTypes.Password },
        AllowedScopes = { "openid", "profile", "api1" },
    };

    private async Task FailAsync(string username, int times, string clientId = PasswordClientId)
    {
        for (var i = 0; i < times; i++)
        {
            AssertInvalidGrant(await RequestAsync(username, "wrong-" + i, clientId: clientId));
        }
    }

    private Task<TokenResponse> RequestAsync(string username, string password, string scope = "openid profile api1", string clientId = PasswordClientId)
        => Http.RequestPasswordTokenAsync(new PasswordTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = PasswordSecret,
            UserName = username,
            Password = password,
            Scope = scope,
        });

    private static void AssertInvalidGrant(TokenResponse response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.HttpStatusCode);
        Assert.Equal("invalid_grant", response.Error);
    }
}
