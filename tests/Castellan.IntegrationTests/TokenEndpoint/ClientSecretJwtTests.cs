using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// <c>client_secret_jwt</c> (RFC 7523 §2.2, OpenID Connect Core §9) at the token and revocation endpoints, with
/// Duende.IdentityModel as the client: an assertion whose HMAC is keyed with the client's <c>HmacSecret</c>.
/// </summary>
public sealed class ClientSecretJwtTests : IAsyncLifetime
{
    private const string HmacClientId = "hmac-client";
    private const string ShortSecretClientId = "hmac-short";
    private const string ExpiredSecretClientId = "hmac-expired";
    private const string KeyClientId = "key-client";
    private const string HashedClientId = "hashed-client";

    // 64 bytes: enough for HS512 (RFC 7518 §3.2).
    private const string HmacSecret = "hs-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc";

    // 32 bytes: HS256 only.
    private const string ShortSecret = "hs-0123456789abcdef0123456789abc";

    private const string HashedSecret = "hashed-0123456789abcdef0123456789abcdef";

    private readonly TempDirectory _root = new();
    private readonly LogCollector _logs = new();
    private readonly ECDsa _clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private string _publicJwk = "";
    private TestApp _server = null!;
    private HttpClient _http = null!;

    private string Issuer => _server.BaseAddress;

    public async Task InitializeAsync()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(_clientKey));
        jwk.D = null;
        _publicJwk = JsonSerializer.Serialize(jwk);
        _server = await TokenServer.StartAsync(_root, castellan =>
        {
            castellan.Services.AddSingleton<ILoggerProvider>(_logs);
            castellan.Services.AddLogging(logging => logging.AddFilter<LogCollector>(null, LogLevel.Information));
            castellan.AddInMemoryClients(
            [
                Client(HmacClientId, Secret.FromHmacSecret(HmacSecret)),
                Client(ShortSecretClientId, Secret.FromHmacSecret(ShortSecret)),
                Client(ExpiredSecretClientId, Secret.FromHmacSecret(HmacSecret, DateTimeOffset.UtcNow.AddMinutes(-1))),
                Client(KeyClientId, new Secret { Type = SecretTypes.JsonWebKey, Value = _publicJwk }),
                Client(HashedClientId, Secret.FromPlainText(HashedSecret)),
            ]);
        });
        _http = _server.CreateClient();
    }

    private static Client Client(string id, Secret secret) => new()
    {
        ClientId = id,
        ClientSecrets = { secret },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { "api1" },
        AccessTokenType = id == HmacClientId ? AccessTokenType.Reference : AccessTokenType.Jwt,
    };

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
        _clientKey.Dispose();
    }

    private static SymmetricSecurityKey Key(string secret) => new(Encoding.UTF8.GetBytes(secret));

    private string Assertion(string clientId = HmacClientId, string secret = HmacSecret, string algorithm = SecurityAlgorithms.HmacSha256, Action<SecurityTokenDescriptor>? change = null)
        => TestTokens.ClientAssertion(clientId, Issuer, Key(secret), algorithm, change);

    private Task<TokenResponse> RequestAsync(string clientId, string assertion) => TestTokens.RequestWithAssertionAsync(_http, clientId, assertion);

    private void AssertRefused(TokenResponse response, string logged) => TestTokens.AssertInvalidClient(response, _logs, logged);

    private string Logs => string.Join(" | ", _logs.Entries.Select(e => e.Message));

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha256)]
    [InlineData(SecurityAlgorithms.HmacSha384)]
    [InlineData(SecurityAlgorithms.HmacSha512)]
    public async Task An_assertion_keyed_with_the_HmacSecret_gets_a_token(string algorithm)
    {
        var response = await RequestAsync(HmacClientId, Assertion(algorithm: algorithm));
        Assert.False(response.IsError, response.Error + " " + Logs);
        Assert.Equal("Bearer", response.TokenType);
        Assert.False(string.IsNullOrEmpty(response.AccessToken));
    }

    [Fact]
    public async Task A_secret_shorter_than_the_hash_keys_HS256_but_not_HS512()
    {
        Assert.False((await RequestAsync(ShortSecretClientId, Assertion(ShortSecretClientId, ShortSecret))).IsError, Logs);

        // IdentityModel will not make an HS512 with a short key; a client that does gets no further at the server.
        var hs512 = TestTokens.Forge(Assertion(ShortSecretClientId, ShortSecret),
            header => new Dictionary<string, object?>(TestTokens.ToDictionary(header)) { ["alg"] = "HS512" },
            TestTokens.ToDictionary, input => HMACSHA512.HashData(Encoding.UTF8.GetBytes(ShortSecret), input));
        AssertRefused(await RequestAsync(ShortSecretClientId, hs512), "no HmacSecret long enough");
    }

    [Fact]
    public async Task An_assertion_keyed_with_another_secret_is_refused()
        => AssertRefused(await RequestAsync(HmacClientId, Assertion(secret: HmacSecret.Replace('0', 'x'))), "the assertion is not valid");

    [Fact]
    public async Task Wrong_audience_expired_and_overlong_assertions_are_refused()
    {
        AssertRefused(await RequestAsync(HmacClientId, Assertion(change: d => d.Audience = Issuer + "/connect/token")), "Audience validation failed");
        AssertRefused(await RequestAsync(HmacClientId, Assertion(change: d =>
        {
            d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddMinutes(-10);
            d.Expires = DateTime.UtcNow.AddMinutes(-5);
        })), "the assertion is not valid");
        AssertRefused(await RequestAsync(HmacClientId, Assertion(change: d => d.Expires = DateTime.UtcNow.AddHours(1))), "valid for longer than 300 seconds");
    }

    [Fact]
    public async Task A_replayed_assertion_is_refused()
    {
        var assertion = Assertion();
        Assert.False((await RequestAsync(HmacClientId, assertion)).IsError, Logs);
        AssertRefused(await RequestAsync(HmacClientId, assertion), "jti was used before");
    }

    [Fact]
    public async Task An_expired_HmacSecret_no_longer_authenticates()
        => AssertRefused(await RequestAsync(ExpiredSecretClientId, Assertion(ExpiredSecretClientId)), "no HmacSecret long enough");

    [Fact]
    public async Task A_hashed_shared_secret_cannot_key_an_assertion()
        // The server holds only its hash: an HMAC keyed with the secret cannot be checked, and is refused.
        => AssertRefused(await RequestAsync(HashedClientId, Assertion(HashedClientId, HashedSecret)), "hashed-client");

    [Fact]
    public async Task An_HMAC_keyed_with_a_clients_public_key_is_refused()
    {
        // The old alg confusion: HS256 keyed with the public key, which anyone can read, passed off as the client.
        AssertRefused(await RequestAsync(KeyClientId, Assertion(KeyClientId, _publicJwk)), "key-client");

        // The client's real key still works, so the refusal above is the HMAC's.
        var signed = await RequestAsync(KeyClientId, TestTokens.ClientAssertion(KeyClientId, Issuer, new ECDsaSecurityKey(_clientKey), SecurityAlgorithms.EcdsaSha256));
        Assert.False(signed.IsError, signed.Error + " " + Logs);
    }

    [Fact]
    public async Task The_HmacSecret_is_not_a_client_secret_for_basic_authentication()
    {
        using var response = await TestTokens.RequestAsync(_http, HmacClientId, HmacSecret, "api1");
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task An_assertion_with_alg_none_is_refused()
    {
        var unsigned = Base64UrlEncoder.Encode("""{"alg":"none"}""") + "." + Base64UrlEncoder.Encode(
            $$"""{"iss":"{{HmacClientId}}","sub":"{{HmacClientId}}","aud":"{{Issuer}}","jti":"n1","exp":{{DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds()}}}""") + ".";
        AssertRefused(await RequestAsync(HmacClientId, unsigned), "'none', which is not an allowed algorithm for private_key_jwt");
    }

    [Fact]
    public async Task The_client_revokes_its_token_with_an_assertion()
    {
        var token = await RequestAsync(HmacClientId, Assertion());
        Assert.False(token.IsError, token.Error + " " + Logs);

        var revoked = await _http.RevokeTokenAsync(new TokenRevocationRequest
        {
            Address = "connect/revocation",
            ClientId = HmacClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            ClientAssertion = new ClientAssertion { Type = OidcConstants.ClientAssertionTypes.JwtBearer, Value = Assertion() },
            Token = token.AccessToken!,
            TokenTypeHint = "access_token",
        });
        Assert.False(revoked.IsError, revoked.Error + " " + Logs);

        // The reference token is gone: introspection by its API says inactive.
        var introspected = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = "api1",
            ClientSecret = TokenServer.Api1Secret,
            Token = token.AccessToken!,
        });
        Assert.False(introspected.IsError, introspected.Error);
        Assert.False(introspected.IsActive);
    }

    [Fact]
    public async Task The_client_introspects_its_token_with_an_assertion()
    {
        var token = await RequestAsync(HmacClientId, Assertion());
        Assert.False(token.IsError, token.Error + " " + Logs);

        var introspected = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = HmacClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            ClientAssertion = new ClientAssertion { Type = OidcConstants.ClientAssertionTypes.JwtBearer, Value = Assertion() },
            Token = token.AccessToken!,
        });
        Assert.False(introspected.IsError, introspected.Error + " " + Logs);
        Assert.True(introspected.IsActive);

        // The same request keyed with another secret is not authenticated.
        var refused = await _http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = HmacClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            ClientAssertion = new ClientAssertion { Type = OidcConstants.ClientAssertionTypes.JwtBearer, Value = Assertion(secret: HmacSecret.Replace('0', 'x')) },
            Token = token.AccessToken!,
        });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.HttpStatusCode);
    }

    [Fact]
    public async Task Discovery_lists_client_secret_jwt_and_the_HMAC_algorithms()
    {
        using var json = JsonDocument.Parse(await _http.GetStringAsync(".well-known/openid-configuration"));
        string[] Strings(string name) => [.. json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

        Assert.Contains("client_secret_jwt", Strings("token_endpoint_auth_methods_supported"));
        Assert.Contains("client_secret_jwt", Strings("revocation_endpoint_auth_methods_supported"));
        Assert.Contains("HS256", Strings("token_endpoint_auth_signing_alg_values_supported"));
        Assert.Contains("ES256", Strings("token_endpoint_auth_signing_alg_values_supported"));
        Assert.DoesNotContain("none", Strings("token_endpoint_auth_signing_alg_values_supported"));
    }
}
