using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.IntegrationTests.Interactive;
using Castellan.Security;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// DPoP at the token endpoint (RFC 9449 §5): a valid proof binds the access token to its key (<c>cnf.jkt</c>,
/// <c>token_type</c> DPoP), a bad one is <c>invalid_dpop_proof</c>, and a public client's refresh token only works
/// with the key it was issued with. Proofs are built with <see cref="JsonWebTokenHandler"/>, as a client would.
/// </summary>
public sealed class DPoPTokenTests : IAsyncLifetime
{
    private const string RequireDPoPClientId = "dpop-required";
    private const string NonceClientId = "dpop-nonce";

    private readonly TempDirectory _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly DPoPClientKey _key;
    private readonly DPoPClientKey _otherKey;
    private TestApp _server = null!;
    private HttpClient _http = null!;

    public DPoPTokenTests()
    {
        _key = new DPoPClientKey(_time);
        _otherKey = new DPoPClientKey(_time);
    }

    private string TokenEndpointUrl => _server.BaseAddress + "/connect/token";

    public async Task InitializeAsync()
    {
        _server = await InteractiveServer.StartAsync(_root, time: _time, configure: c => c.AddInMemoryClients(
        [
            new Client
            {
                ClientId = RequireDPoPClientId,
                ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
                RequireDPoP = true,
            },
            NonceClient(),
        ]));
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
        _key.Dispose();
        _otherKey.Dispose();
    }

    private string Proof(DPoPClientKey? key = null, string? htu = null, string htm = "POST", DateTimeOffset? iat = null, string? jti = null,
        bool privateKeyInJwk = false)
        => (key ?? _key).Proof(htm, htu ?? TokenEndpointUrl, iat: iat, jti: jti, privateKeyInJwk: privateKeyInJwk);

    private string UnsignedProof(string alg, Func<string, string> sign) => _key.UnsignedProof(alg, sign, "POST", TokenEndpointUrl);

    private Task<TokenResponse> ClientCredentialsAsync(string? proof, string clientId = TokenServer.ClientId)
        => _http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = TokenServer.ClientSecret,
            Scope = "api1",
            DPoPProofToken = proof,
        });

    private static void AssertError(TokenResponse response, string error)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.HttpStatusCode);
        Assert.Equal(error, response.Error);
        Assert.False(string.IsNullOrEmpty(response.ErrorDescription));
    }

    private static string? Jkt(string accessToken)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(new JsonWebToken(accessToken).EncodedPayload));
        return payload.RootElement.TryGetProperty("cnf", out var cnf) ? cnf.GetProperty("jkt").GetString() : null;
    }

    [Fact]
    public async Task Client_credentials_with_a_proof_gets_a_DPoP_token_bound_to_the_key()
    {
        var response = await ClientCredentialsAsync(Proof());

        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, response.TokenType);
        Assert.Equal(_key.Thumbprint, Jkt(response.AccessToken!));
    }

    [Fact]
    public async Task Client_credentials_without_a_proof_gets_a_bearer_token_without_cnf()
    {
        var response = await ClientCredentialsAsync(proof: null);

        Assert.False(response.IsError, response.Error);
        Assert.Equal("Bearer", response.TokenType);
        Assert.Null(Jkt(response.AccessToken!));
    }

    [Fact]
    public async Task Client_requiring_DPoP_without_a_proof_is_invalid_request()
        => AssertError(await ClientCredentialsAsync(proof: null, RequireDPoPClientId), "invalid_request");

    [Fact]
    public async Task Client_requiring_DPoP_with_a_proof_gets_a_DPoP_token()
    {
        var response = await ClientCredentialsAsync(Proof(), RequireDPoPClientId);
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, response.TokenType);
    }

    [Fact]
    public async Task Proof_for_another_uri_is_invalid_dpop_proof()
        => AssertError(await ClientCredentialsAsync(Proof(htu: _server.BaseAddress + "/connect/introspect")), DPoPConstants.InvalidDPoPProof);

    [Fact]
    public async Task Proof_for_another_method_is_invalid_dpop_proof()
        => AssertError(await ClientCredentialsAsync(Proof(htm: "GET")), DPoPConstants.InvalidDPoPProof);

    [Fact]
    public async Task Replayed_proof_is_invalid_dpop_proof()
    {
        var proof = Proof();
        Assert.False((await ClientCredentialsAsync(proof)).IsError);
        AssertError(await ClientCredentialsAsync(proof), DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Stale_and_future_proofs_are_invalid_dpop_proof()
    {
        AssertError(await ClientCredentialsAsync(Proof(iat: _time.GetUtcNow().AddMinutes(-5))), DPoPConstants.InvalidDPoPProof);
        AssertError(await ClientCredentialsAsync(Proof(iat: _time.GetUtcNow().AddMinutes(5))), DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Proof_with_alg_none_is_invalid_dpop_proof()
        => AssertError(await ClientCredentialsAsync(UnsignedProof("none", _ => "")), DPoPConstants.InvalidDPoPProof);

    [Fact]
    public async Task Proof_signed_with_HS256_is_invalid_dpop_proof()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var proof = UnsignedProof("HS256", input => Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input))));
        AssertError(await ClientCredentialsAsync(proof), DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Proof_with_a_private_key_in_jwk_is_invalid_dpop_proof()
        => AssertError(await ClientCredentialsAsync(Proof(privateKeyInJwk: true)), DPoPConstants.InvalidDPoPProof);

    [Fact]
    public async Task Garbage_in_the_DPoP_header_is_invalid_dpop_proof()
        => AssertError(await ClientCredentialsAsync("not-a-jwt"), DPoPConstants.InvalidDPoPProof);

    [Fact]
    public async Task Two_proofs_in_the_DPoP_header_are_invalid_dpop_proof()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = TokenServer.ClientId,
                ["client_secret"] = TokenServer.ClientSecret,
            }),
        };
        request.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, [Proof(), Proof()]);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(DPoPConstants.InvalidDPoPProof, body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Htu_is_the_token_endpoint_under_the_configured_issuer_not_the_host_the_request_used()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root, time: _time, options: o => o.IssuerUri = "https://login.example.com/");
        using var http = server.CreateClient();
        Task<TokenResponse> RequestAsync(string htu) => http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = TokenServer.ClientId,
            ClientSecret = TokenServer.ClientSecret,
            Scope = "api1",
            DPoPProofToken = Proof(htu: htu),
        });

        // The client reached the server over loopback, but knows it by its issuer (a proxy in front, say).
        AssertError(await RequestAsync(server.BaseAddress + "/connect/token"), DPoPConstants.InvalidDPoPProof);
        var response = await RequestAsync("https://LOGIN.example.com:443/connect/token");
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, response.TokenType);
    }

    [Fact]
    public async Task Reference_token_introspection_returns_cnf_and_token_type_DPoP()
    {
        var tokens = await ClientCredentialsAsync(Proof(), TokenServer.ReferenceClientId);
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, tokens.TokenType);

        var introspection = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = "api1",
            ClientSecret = TokenServer.Api1Secret,
            Token = tokens.AccessToken!,
        });
        Assert.True(introspection.IsActive, introspection.Raw);
        var json = introspection.Json!.Value;
        Assert.Equal(_key.Thumbprint, json.GetProperty("cnf").GetProperty("jkt").GetString());
        Assert.Equal(DPoPConstants.TokenType, json.GetProperty("token_type").GetString());
    }

    private async Task<TokenResponse> SignInWithProofAsync(string clientId)
    {
        using var browser = new BrowserSession(_server);
        var (redirect, secret) = clientId == InteractiveServer.SpaClientId
            ? ("https://spa.example/callback", (string?)null)
            : (InteractiveServer.RedirectUri, InteractiveServer.WebSecret);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser, clientId, "openid api1 offline_access", redirect);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, clientId, secret, redirect, Proof());
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, tokens.TokenType);
        Assert.NotNull(tokens.RefreshToken);
        return tokens;
    }

    private Task<TokenResponse> RefreshAsync(string clientId, string refreshToken, string? proof)
        => _http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = clientId == InteractiveServer.SpaClientId ? null : InteractiveServer.WebSecret,
            RefreshToken = refreshToken,
            DPoPProofToken = proof,
        });

    [Fact]
    public async Task Public_client_refreshes_with_the_same_key()
    {
        var first = await SignInWithProofAsync(InteractiveServer.SpaClientId);

        var second = await RefreshAsync(InteractiveServer.SpaClientId, first.RefreshToken!, Proof());
        Assert.False(second.IsError, second.Error + " " + second.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, second.TokenType);
        Assert.Equal(_key.Thumbprint, Jkt(second.AccessToken!));

        // The rotated refresh token is bound to the same key.
        AssertError(await RefreshAsync(InteractiveServer.SpaClientId, second.RefreshToken!, Proof(_otherKey)), "invalid_grant");
        Assert.False((await RefreshAsync(InteractiveServer.SpaClientId, second.RefreshToken!, Proof())).IsError);
    }

    [Fact]
    public async Task Public_client_refresh_with_another_key_or_no_proof_is_invalid_grant()
    {
        var tokens = await SignInWithProofAsync(InteractiveServer.SpaClientId);

        AssertError(await RefreshAsync(InteractiveServer.SpaClientId, tokens.RefreshToken!, Proof(_otherKey)), "invalid_grant");
        AssertError(await RefreshAsync(InteractiveServer.SpaClientId, tokens.RefreshToken!, proof: null), "invalid_grant");

        // Refused before rotation: the token still works with its key.
        Assert.False((await RefreshAsync(InteractiveServer.SpaClientId, tokens.RefreshToken!, Proof())).IsError);
    }

    [Fact]
    public async Task Confidential_client_refresh_token_is_not_bound_but_the_new_access_token_is()
    {
        var tokens = await SignInWithProofAsync(InteractiveServer.WebClientId);

        var withOtherKey = await RefreshAsync(InteractiveServer.WebClientId, tokens.RefreshToken!, Proof(_otherKey));
        Assert.False(withOtherKey.IsError, withOtherKey.Error + " " + withOtherKey.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, withOtherKey.TokenType);
        Assert.Equal(_otherKey.Thumbprint, Jkt(withOtherKey.AccessToken!));

        var withoutProof = await RefreshAsync(InteractiveServer.WebClientId, withOtherKey.RefreshToken!, proof: null);
        Assert.False(withoutProof.IsError, withoutProof.Error);
        Assert.Equal("Bearer", withoutProof.TokenType);
        Assert.Null(Jkt(withoutProof.AccessToken!));
    }

    private async Task<HttpResponseMessage> UserInfoAsync(string scheme, string token, string? proof)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        request.Headers.TryAddWithoutValidation("Authorization", scheme + " " + token);
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, proof);
        }

        return await _http.SendAsync(request);
    }

    private static string Challenge(HttpResponseMessage response, string scheme)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        return response.Headers.WwwAuthenticate.Single(c => c.Scheme == scheme).Parameter ?? "";
    }

    [Fact]
    public async Task UserInfo_takes_a_DPoP_bound_token_only_with_a_proof_by_its_key()
    {
        var tokens = await SignInWithProofAsync(InteractiveServer.SpaClientId);
        var access = tokens.AccessToken!;
        var url = _server.BaseAddress + "/connect/userinfo";

        using (var ok = await UserInfoAsync("DPoP", access, _key.Proof("GET", url, access)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Contains(InteractiveServer.SubjectId, await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var asBearer = await UserInfoAsync("Bearer", access, proof: null))
        {
            Assert.Contains("error=\"invalid_token\"", Challenge(asBearer, "Bearer"), StringComparison.Ordinal);
        }

        using (var noProof = await UserInfoAsync("DPoP", access, proof: null))
        {
            var challenge = Challenge(noProof, "DPoP");
            Assert.Contains("error=\"invalid_dpop_proof\"", challenge, StringComparison.Ordinal);
            Assert.Contains("algs=\"ES256", challenge, StringComparison.Ordinal);
        }

        using (var otherKey = await UserInfoAsync("DPoP", access, _otherKey.Proof("GET", url, access)))
        {
            Assert.Contains("error=\"invalid_token\"", Challenge(otherKey, "DPoP"), StringComparison.Ordinal);
        }

        using (var noAth = await UserInfoAsync("DPoP", access, _key.Proof("GET", url)))
        {
            Assert.Contains("error=\"invalid_dpop_proof\"", Challenge(noAth, "DPoP"), StringComparison.Ordinal);
        }

        using var wrongUrl = await UserInfoAsync("DPoP", access, _key.Proof("GET", _server.BaseAddress + "/connect/token", access));
        Assert.Contains("error=\"invalid_dpop_proof\"", Challenge(wrongUrl, "DPoP"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserInfo_refuses_a_bearer_token_sent_with_the_DPoP_scheme()
    {
        using var browser = new BrowserSession(_server);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser, InteractiveServer.WebClientId, "openid", InteractiveServer.RedirectUri);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, InteractiveServer.WebClientId, InteractiveServer.WebSecret, InteractiveServer.RedirectUri);
        Assert.Equal("Bearer", tokens.TokenType);
        var access = tokens.AccessToken!;

        using var response = await UserInfoAsync("DPoP", access, _key.Proof("GET", _server.BaseAddress + "/connect/userinfo", access));
        Assert.Contains("error=\"invalid_token\"", Challenge(response, "DPoP"), StringComparison.Ordinal);
        using var asBearer = await UserInfoAsync("Bearer", access, proof: null);
        Assert.Equal(HttpStatusCode.OK, asBearer.StatusCode);
    }

    /// <summary>Signs in through the authorize endpoint with <c>dpop_jkt</c> (RFC 9449 §10) and returns the code.</summary>
    private async Task<(string Code, AuthorizeRequestBuilder Request)> CodeBoundToAsync(string jkt, string scope = "openid api1")
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(request.Url(scope: scope, extra: new Duende.IdentityModel.Client.Parameters { { "dpop_jkt", jkt } }));
        Assert.Equal("login", login.Page);
        var back = await browser.SignInAsync(login);
        return (back.ResponseParameters["code"], request);
    }

    [Fact]
    public async Task Code_bound_by_dpop_jkt_is_redeemed_with_a_proof_by_that_key()
    {
        var (code, request) = await CodeBoundToAsync(_key.Thumbprint);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, dpopProof: Proof());
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, tokens.TokenType);
        Assert.Equal(_key.Thumbprint, Jkt(tokens.AccessToken!));
    }

    [Fact]
    public async Task Code_bound_by_dpop_jkt_is_refused_with_another_key_or_without_a_proof()
    {
        var (code, request) = await CodeBoundToAsync(_key.Thumbprint);
        AssertError(await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, dpopProof: Proof(_otherKey)), "invalid_grant");

        var (second, secondRequest) = await CodeBoundToAsync(_key.Thumbprint);
        AssertError(await AuthorizationCodeFlowTests.RedeemAsync(_http, second, secondRequest), "invalid_grant");
    }

    [Fact]
    public async Task Code_bound_by_dpop_jkt_gives_a_confidential_client_an_unbound_refresh_token()
    {
        // The binding of the code is spent on its redemption: as for any confidential client, its refresh token is
        // bound by the client's authentication, and a refresh with another key's proof works.
        var (code, request) = await CodeBoundToAsync(_key.Thumbprint, "openid api1 offline_access");
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request, dpopProof: Proof());
        Assert.False(tokens.IsError, tokens.Error);
        Assert.NotNull(tokens.RefreshToken);

        var refreshed = await RefreshAsync(InteractiveServer.WebClientId, tokens.RefreshToken!, Proof(_otherKey));
        Assert.False(refreshed.IsError, refreshed.Error + " " + refreshed.ErrorDescription);
        Assert.Equal(_otherKey.Thumbprint, Jkt(refreshed.AccessToken!));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I=")]
    [InlineData("0ZcOCORZNYy+DWpqq30jZyJGHTN0d2HglBV3uiguA4")]
    [InlineData("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")]
    public async Task Malformed_dpop_jkt_is_invalid_request_at_the_client(string jkt)
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var result = await browser.NavigateAsync(request.Url(scope: "openid api1", extra: new Duende.IdentityModel.Client.Parameters { { "dpop_jkt", jkt } }));
        Assert.Equal("invalid_request", result.ResponseParameters["error"]);
        Assert.Contains("dpop_jkt", result.ResponseParameters["error_description"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeated_dpop_jkt_is_invalid_request()
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var url = request.Url(scope: "openid api1", extra: new Duende.IdentityModel.Client.Parameters { { "dpop_jkt", _key.Thumbprint } })
            + "&dpop_jkt=" + _otherKey.Thumbprint;
        var result = await browser.NavigateAsync(url);
        Assert.Equal("invalid_request", result.ResponseParameters["error"]);
    }

    private static Client NonceClient() => new()
    {
        ClientId = NonceClientId,
        ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { "api1" },
        RequireDPoPNonce = true,
    };

    [Fact]
    public async Task Client_requiring_nonces_is_asked_for_one_then_accepted_with_it()
    {
        var first = await ClientCredentialsAsync(Proof(), NonceClientId);
        AssertError(first, DPoPConstants.UseDPoPNonce);
        Assert.NotNull(first.DPoPNonce);
        Assert.Equal(first.DPoPNonce, Assert.Single(first.HttpResponse!.Headers.GetValues(DPoPConstants.NonceHeaderName)));

        var second = await ClientCredentialsAsync(_key.Proof("POST", TokenEndpointUrl, nonce: first.DPoPNonce), NonceClientId);
        Assert.False(second.IsError, second.Error + " " + second.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, second.TokenType);
        // RFC 9449 §8.2: the answer carries the nonce to use next.
        Assert.Equal(first.DPoPNonce, second.DPoPNonce);
    }

    [Fact]
    public async Task Forged_or_expired_nonce_is_use_dpop_nonce()
    {
        var nonce = (await ClientCredentialsAsync(Proof(), NonceClientId)).DPoPNonce!;

        // One character in the middle changed: always a changed data bit. (Replacing the last two characters left
        // the nonce as it was about once in 256 runs: they could already read "AA", or differ only in padding bits.)
        var middle = nonce.Length / 2;
        var forged = nonce[..middle] + (nonce[middle] == 'A' ? 'B' : 'A') + nonce[(middle + 1)..];
        AssertError(await ClientCredentialsAsync(_key.Proof("POST", TokenEndpointUrl, nonce: forged), NonceClientId), DPoPConstants.UseDPoPNonce);
        AssertError(await ClientCredentialsAsync(_key.Proof("POST", TokenEndpointUrl, nonce: "not-a-nonce"), NonceClientId), DPoPConstants.UseDPoPNonce);

        // DPoPNonceOptions.Lifetime is 5 minutes by default: the same nonce is refused after it.
        _time.Advance(TimeSpan.FromMinutes(6));
        var stale = await ClientCredentialsAsync(_key.Proof("POST", TokenEndpointUrl, nonce: nonce), NonceClientId);
        AssertError(stale, DPoPConstants.UseDPoPNonce);
        Assert.NotEqual(nonce, stale.DPoPNonce);
    }

    [Fact]
    public async Task Clients_without_the_setting_are_not_asked_for_nonces()
    {
        var response = await ClientCredentialsAsync(Proof());
        Assert.False(response.IsError, response.Error);
        Assert.False(response.HttpResponse!.Headers.Contains(DPoPConstants.NonceHeaderName));
    }

    [Fact]
    public async Task Nonce_from_one_node_is_accepted_by_another_sharing_the_key_ring()
    {
        // A second server on the same folder, so on one Data Protection key ring (and application name), as the
        // nodes of a cluster are: nonces need no shared state beyond that.
        var nonceFromA = (await ClientCredentialsAsync(Proof(), NonceClientId)).DPoPNonce!;
        await using var sharedNode = await InteractiveServer.StartAsync(_root, time: _time, configure: c => c.AddInMemoryClients([NonceClient()]),
            options: o => o.IssuerUri = _server.BaseAddress);
        using var httpB = sharedNode.CreateClient();
        var onB = await httpB.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = NonceClientId,
            ClientSecret = TokenServer.ClientSecret,
            Scope = "api1",
            // The proof names the issuer's token endpoint: node B is configured with node A's issuer.
            DPoPProofToken = _key.Proof("POST", TokenEndpointUrl, nonce: nonceFromA),
        });
        Assert.False(onB.IsError, onB.Error + " " + onB.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, onB.TokenType);
    }

    [Fact]
    public async Task Server_wide_nonces_apply_to_code_redemption_and_to_userinfo()
    {
        using var root = new TempDirectory();
        await using var server = await InteractiveServer.StartAsync(root, time: _time, options: o => o.DPoP.RequireNonce = true);
        using var http = server.CreateClient();
        var tokenUrl = server.BaseAddress + "/connect/token";
        using var browser = new BrowserSession(server);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser, scope: "openid api1");

        var asked = await AuthorizationCodeFlowTests.RedeemAsync(http, code, request, dpopProof: _key.Proof("POST", tokenUrl));
        AssertError(asked, DPoPConstants.UseDPoPNonce);
        // The nonce refusal comes before the grant is looked at, so the code is still good for the retry.
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(http, code, request, dpopProof: _key.Proof("POST", tokenUrl, nonce: asked.DPoPNonce));
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        var access = tokens.AccessToken!;

        var userInfoUrl = server.BaseAddress + "/connect/userinfo";
        using var withoutNonce = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        withoutNonce.Headers.TryAddWithoutValidation("Authorization", "DPoP " + access);
        withoutNonce.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, _key.Proof("GET", userInfoUrl, access));
        using var refused = await http.SendAsync(withoutNonce);
        Assert.Contains("error=\"use_dpop_nonce\"", Challenge(refused, "DPoP"), StringComparison.Ordinal);
        var nonce = Assert.Single(refused.Headers.GetValues(DPoPConstants.NonceHeaderName));

        using var withNonce = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        withNonce.Headers.TryAddWithoutValidation("Authorization", "DPoP " + access);
        withNonce.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, _key.Proof("GET", userInfoUrl, access, nonce: nonce));
        using var accepted = await http.SendAsync(withNonce);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }
}
