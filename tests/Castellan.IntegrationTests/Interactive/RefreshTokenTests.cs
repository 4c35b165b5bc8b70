using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>RFC 6749 §6 with rotation (RFC 9700 §4.14.2): reuse revokes the family, except within the grace period.</summary>
public sealed class RefreshTokenTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestApp _server = null!;
    private HttpClient _http = null!;

    /// <summary>The web client with a 10 s grace period; <c>spa</c> keeps the default of none.</summary>
    public async Task InitializeAsync()
    {
        _server = await InteractiveServer.StartAsync(_root, c =>
        {
            if (c.ClientId == InteractiveServer.WebClientId)
            {
                c.RefreshTokenRotationGracePeriod = 10;
            }
        }, time: _time);
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
    }

    private async Task<TokenResponse> SignInAsync(string clientId = InteractiveServer.WebClientId)
    {
        using var browser = new BrowserSession(_server);
        var (redirect, secret) = clientId == InteractiveServer.SpaClientId ? ("https://spa.example/callback", (string?)null) : (InteractiveServer.RedirectUri, InteractiveServer.WebSecret);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser, clientId, "openid api1 offline_access", redirect);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, clientId, secret, redirect);
        Assert.False(tokens.IsError, tokens.Error);
        Assert.NotNull(tokens.RefreshToken);
        return tokens;
    }

    private Task<TokenResponse> RefreshAsync(string refreshToken, string clientId = InteractiveServer.WebClientId, string? scope = null)
        => _http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = clientId == InteractiveServer.SpaClientId ? null : InteractiveServer.WebSecret,
            RefreshToken = refreshToken,
            Scope = scope,
        });

    /// <param name="secret">Null for a public client, which sends its client_id in the body only.</param>
    private Task<TokenRevocationResponse> RevokeAsync(string token, string clientId, string? secret, string? hint = null)
        => _http.RevokeTokenAsync(new TokenRevocationRequest
        {
            Address = "connect/revocation",
            ClientId = clientId,
            ClientSecret = secret!,
            ClientCredentialStyle = secret is null ? ClientCredentialStyle.PostBody : ClientCredentialStyle.AuthorizationHeader,
            Token = token,
            TokenTypeHint = hint!,
        });

    [Fact]
    public async Task Refresh_rotates_the_token_and_keeps_the_user()
    {
        var first = await SignInAsync();
        var second = await RefreshAsync(first.RefreshToken!);
        Assert.False(second.IsError, second.Error);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotNull(second.IdentityToken);
        // OIDC Core §12.2 (errata): the refreshed id_token answers no authentication request, so it carries no nonce.
        var refreshedIdToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(second.IdentityToken);
        Assert.False(refreshedIdToken.TryGetClaim("nonce", out _));
        Assert.Equal(new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(first.IdentityToken).GetClaim("auth_time").Value, refreshedIdToken.GetClaim("auth_time").Value);
        var access = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(second.AccessToken);
        Assert.Equal(InteractiveServer.SubjectId, access.Subject);

        // The new one works in turn.
        var third = await RefreshAsync(second.RefreshToken!);
        Assert.False(third.IsError, third.Error);
    }

    [Fact]
    public async Task Reuse_after_the_grace_period_revokes_the_whole_family()
    {
        var first = await SignInAsync();
        var second = await RefreshAsync(first.RefreshToken!);
        _time.Advance(TimeSpan.FromSeconds(11));

        var replay = await RefreshAsync(first.RefreshToken!);
        Assert.Equal("invalid_grant", replay.Error);

        // The legitimate successor is gone with its family (RFC 9700 §4.14.2).
        var successor = await RefreshAsync(second.RefreshToken!);
        Assert.Equal("invalid_grant", successor.Error);
    }

    [Fact]
    public async Task Two_requests_with_one_token_inside_the_grace_period_both_get_working_tokens()
    {
        var first = await SignInAsync();
        var a = await RefreshAsync(first.RefreshToken!);
        _time.Advance(TimeSpan.FromSeconds(5));
        var b = await RefreshAsync(first.RefreshToken!);
        Assert.False(a.IsError, a.Error);
        Assert.False(b.IsError, b.Error);
        Assert.NotEqual(a.RefreshToken, b.RefreshToken);

        Assert.False((await RefreshAsync(a.RefreshToken!)).IsError);
        Assert.False((await RefreshAsync(b.RefreshToken!)).IsError);
    }

    [Fact]
    public async Task Without_grace_any_reuse_revokes_the_family()
    {
        var first = await SignInAsync(InteractiveServer.SpaClientId);
        var second = await RefreshAsync(first.RefreshToken!, InteractiveServer.SpaClientId);
        Assert.False(second.IsError, second.Error);
        Assert.Equal("invalid_grant", (await RefreshAsync(first.RefreshToken!, InteractiveServer.SpaClientId)).Error);
        Assert.Equal("invalid_grant", (await RefreshAsync(second.RefreshToken!, InteractiveServer.SpaClientId)).Error);
    }

    [Fact]
    public async Task Fifty_parallel_refreshes_of_one_token_without_grace_give_exactly_one_success()
    {
        var first = await SignInAsync(InteractiveServer.SpaClientId);
        var gate = new TaskCompletionSource();
        var attempts = Enumerable.Range(0, 50).Select(async _ =>
        {
            await gate.Task;
            return await RefreshAsync(first.RefreshToken!, InteractiveServer.SpaClientId);
        }).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(attempts);
        Assert.Single(results, r => !r.IsError);
        Assert.All(results.Where(r => r.IsError), r => Assert.Equal("invalid_grant", r.Error));
    }

    [Fact]
    public async Task Refresh_token_of_another_client_is_refused()
    {
        var web = await SignInAsync();
        var stolen = await RefreshAsync(web.RefreshToken!, InteractiveServer.SpaClientId);
        Assert.Equal("invalid_grant", stolen.Error);
        // The refusal did not spend it for its owner.
        Assert.False((await RefreshAsync(web.RefreshToken!)).IsError);
    }

    [Fact]
    public async Task Scope_may_narrow_but_not_widen()
    {
        var first = await SignInAsync();
        var narrow = await RefreshAsync(first.RefreshToken!, scope: "api1");
        Assert.False(narrow.IsError, narrow.Error);
        Assert.Equal("api1", narrow.Scope);
        Assert.Null(narrow.IdentityToken);

        // The grant keeps its scopes: the next refresh without scope gets them all back.
        var full = await RefreshAsync(narrow.RefreshToken!);
        Assert.Contains("openid", full.Scope!.Split(' '));

        var wider = await RefreshAsync(full.RefreshToken!, scope: "api1 api2");
        Assert.Equal("invalid_scope", wider.Error);
    }

    [Fact]
    public async Task Expired_refresh_token_is_refused()
    {
        var first = await SignInAsync();
        _time.Advance(TimeSpan.FromDays(31));
        Assert.Equal("invalid_grant", (await RefreshAsync(first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task Revoked_refresh_token_stops_working_and_takes_its_family()
    {
        var first = await SignInAsync();
        var revoke = await RevokeAsync(first.RefreshToken!, InteractiveServer.WebClientId, InteractiveServer.WebSecret, hint: "refresh_token");
        Assert.False(revoke.IsError, revoke.Error);
        Assert.Equal("invalid_grant", (await RefreshAsync(first.RefreshToken!)).Error);
    }

    [Fact]
    public async Task A_public_client_revokes_its_own_refresh_token_with_its_client_id()
    {
        // RFC 7009 §2.1: a public client authenticates with none (its client_id), as discovery says.
        var first = await SignInAsync(InteractiveServer.SpaClientId);
        var revoke = await RevokeAsync(first.RefreshToken!, InteractiveServer.SpaClientId, secret: null);
        Assert.False(revoke.IsError, revoke.Error);
        Assert.Equal("invalid_grant", (await RefreshAsync(first.RefreshToken!, InteractiveServer.SpaClientId)).Error);
    }

    [Fact]
    public async Task Another_client_cannot_revoke_a_refresh_token()
    {
        var first = await SignInAsync();
        var revoke = await RevokeAsync(first.RefreshToken!, InteractiveServer.ConsentClientId, InteractiveServer.WebSecret);
        Assert.Equal("unauthorized_client", revoke.Error);
        Assert.False((await RefreshAsync(first.RefreshToken!)).IsError);
    }

    [Fact]
    public async Task Refresh_token_is_introspectable_by_its_client_only()
    {
        var first = await SignInAsync();
        var own = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            Token = first.RefreshToken!,
        });
        Assert.True(own.IsActive, own.Raw);
        Assert.Equal("refresh_token", own.Json!.Value.GetProperty("token_type").GetString());
        Assert.Equal(InteractiveServer.SubjectId, own.Json!.Value.GetProperty("sub").GetString());

        var api = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = "api1",
            ClientSecret = TokenServer.Api1Secret,
            Token = first.RefreshToken!,
        });
        Assert.False(api.IsActive);

        await RefreshAsync(first.RefreshToken!);
        var rotated = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            Token = first.RefreshToken!,
        });
        Assert.False(rotated.IsActive);
    }
}
