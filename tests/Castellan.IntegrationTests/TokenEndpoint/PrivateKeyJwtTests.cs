using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// <c>private_key_jwt</c> (RFC 7523 §2.2 and §3) at the token endpoint, with Duende.IdentityModel as the client: a
/// key registered as a JWK secret, and keys published at a <c>jwks_uri</c> that the client rotates.
/// </summary>
public sealed class PrivateKeyJwtTests : IAsyncLifetime
{
    private const string InlineClientId = "jwt-inline";
    private const string PublishedClientId = "jwt-published";
    private const string SecretOnlyClientId = "secret-only";

    private readonly TempDirectory _root = new();
    private readonly LogCollector _logs = new();
    private readonly ECDsa _inlineKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _firstPublished = RSA.Create(2048);
    private readonly RSA _rotatedPublished = RSA.Create(2048);
    private int _jwksRequests;
    private string _publishedJwks = "";
    private TestApp _server = null!;
    private HttpClient _http = null!;

    private string Issuer => _server.BaseAddress;

    public async Task InitializeAsync()
    {
        _publishedJwks = JwkSet(Jwk(new RsaSecurityKey(_firstPublished) { KeyId = "first" }));
        var port = TestApp.FreePort();
        var jwksUri = $"http://127.0.0.1:{port}/client-keys";
        _server = await TokenServer.StartAsync(_root, castellan =>
        {
            castellan.Services.AddSingleton<ILoggerProvider>(_logs);
            castellan.Services.AddLogging(logging => logging.AddFilter<LogCollector>(null, LogLevel.Information));
            castellan.AddInMemoryClients(
            [
                new Client
                {
                    ClientId = InlineClientId,
                    ClientSecrets = { new Secret { Type = SecretTypes.JsonWebKey, Value = JsonSerializer.Serialize(Jwk(new ECDsaSecurityKey(_inlineKey) { KeyId = "inline" })) } },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = PublishedClientId,
                    JwksUri = jwksUri,
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = SecretOnlyClientId,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
            ]);
        },
        options: o =>
        {
            // The client's key server in this test is the token server itself, on loopback http.
            o.ClientJwks.RequireHttps = false;
            o.ClientJwks.MinimumRefreshInterval = TimeSpan.Zero;
        },
        port: port,
        map: app => app.MapGet("/client-keys", () =>
        {
            Interlocked.Increment(ref _jwksRequests);
            return Results.Text(_publishedJwks, "application/jwk-set+json");
        }));
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
        _inlineKey.Dispose();
        _firstPublished.Dispose();
        _rotatedPublished.Dispose();
    }

    private static JsonWebKey Jwk(AsymmetricSecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
        // The public half only: what a client registers or publishes.
        jwk.D = jwk.DP = jwk.DQ = jwk.P = jwk.Q = jwk.QI = null;
        return jwk;
    }

    private static string JwkSet(params JsonWebKey[] keys) => JsonSerializer.Serialize(new { keys });

    private string Assertion(string clientId, SecurityKey key, string algorithm, Action<SecurityTokenDescriptor>? change = null)
        => TestTokens.ClientAssertion(clientId, Issuer, key, algorithm, change);

    private string InlineAssertion(Action<SecurityTokenDescriptor>? change = null)
        => Assertion(InlineClientId, new ECDsaSecurityKey(_inlineKey) { KeyId = "inline" }, SecurityAlgorithms.EcdsaSha256, change);

    private Task<TokenResponse> RequestAsync(string clientId, string assertion) => TestTokens.RequestWithAssertionAsync(_http, clientId, assertion);

    private void AssertRefused(TokenResponse response, string logged) => TestTokens.AssertInvalidClient(response, _logs, logged);

    [Fact]
    public async Task A_valid_assertion_signed_with_the_registered_key_gets_a_token()
    {
        var response = await RequestAsync(InlineClientId, InlineAssertion());
        Assert.False(response.IsError, response.Error + " " + string.Join(" | ", _logs.Entries.Select(e => e.Message)));
        Assert.Equal(InlineClientId, new JsonWebToken(response.AccessToken).GetClaim("client_id").Value);
    }

    [Fact]
    public async Task An_assertion_for_another_audience_is_refused_and_the_token_endpoint_url_only_in_compatibility_mode()
    {
        AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d => d.Audience = "https://other.example.com")), "Audience validation failed");
        AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d => d.Audience = Issuer + "/connect/token")), "Audience validation failed");
    }

    [Fact]
    public async Task An_expired_assertion_is_refused()
        => AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d =>
        {
            d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddMinutes(-10);
            d.Expires = DateTime.UtcNow.AddMinutes(-5);
        })), "the assertion is not valid");

    [Fact]
    public async Task An_assertion_valid_for_an_hour_is_refused()
        => AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d => d.Expires = DateTime.UtcNow.AddHours(1))), "valid for longer than 300 seconds");

    [Fact]
    public async Task A_replayed_assertion_is_refused()
    {
        var assertion = InlineAssertion();
        Assert.False((await RequestAsync(InlineClientId, assertion)).IsError);
        AssertRefused(await RequestAsync(InlineClientId, assertion), "jti was used before");
    }

    [Fact]
    public async Task An_assertion_without_jti_is_refused()
        => AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d => d.Subject = new ClaimsIdentity([new Claim("sub", InlineClientId)]))), "has no jti");

    [Fact]
    public async Task An_assertion_signed_with_another_key_is_refused()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        AssertRefused(await RequestAsync(InlineClientId, Assertion(InlineClientId, new ECDsaSecurityKey(other) { KeyId = "inline" }, SecurityAlgorithms.EcdsaSha256)),
            "the assertion is not valid");
    }

    [Fact]
    public async Task A_symmetric_assertion_and_a_token_of_another_type_are_refused()
    {
        var hmac = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        
        // An HMAC is client_secret_jwt, for which this client has no HmacSecret (ClientSecretJwtTests has the rest).
        AssertRefused(await RequestAsync(InlineClientId, Assertion(InlineClientId, hmac, SecurityAlgorithms.HmacSha256)), "(client_secret_jwt): the client has no HmacSecret");
        AssertRefused(await RequestAsync(InlineClientId, InlineAssertion(d => d.TokenType = "at+jwt")), "typ is 'at+jwt'");
    }

    [Fact]
    public async Task A_client_with_only_a_shared_secret_cannot_use_an_assertion()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        AssertRefused(await RequestAsync(SecretOnlyClientId, Assertion(SecretOnlyClientId, new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256)), "secret-only");
    }

    [Fact]
    public async Task An_assertion_together_with_a_client_secret_is_two_methods()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = InlineClientId,
                ["client_secret"] = "anything",
                ["client_assertion_type"] = OidcConstants.ClientAssertionTypes.JwtBearer,
                ["client_assertion"] = InlineAssertion(),
            }),
        };
        using var response = await _http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Keys_published_at_the_jwks_uri_are_used_and_a_rotation_is_picked_up_by_its_new_kid()
    {
        var first = await RequestAsync(PublishedClientId, Assertion(PublishedClientId, new RsaSecurityKey(_firstPublished) { KeyId = "first" }, SecurityAlgorithms.RsaSsaPssSha256));
        Assert.False(first.IsError, first.Error + " " + string.Join(" | ", _logs.Entries.Select(e => e.Message)));
        var fetchesBefore = _jwksRequests;

        // The client rotates: it publishes the new key only, and signs with it.
        _publishedJwks = JwkSet(Jwk(new RsaSecurityKey(_rotatedPublished) { KeyId = "rotated" }));
        var rotated = await RequestAsync(PublishedClientId, Assertion(PublishedClientId, new RsaSecurityKey(_rotatedPublished) { KeyId = "rotated" }, SecurityAlgorithms.RsaSha256));

        Assert.False(rotated.IsError, rotated.Error + " " + string.Join(" | ", _logs.Entries.Select(e => e.Message)));
        Assert.True(_jwksRequests > fetchesBefore, "the unknown kid made the server fetch the key set again");

        // The first key is gone from the set: an assertion signed with it no longer authenticates.
        AssertRefused(await RequestAsync(PublishedClientId, Assertion(PublishedClientId, new RsaSecurityKey(_firstPublished) { KeyId = "first" }, SecurityAlgorithms.RsaSha256)),
            "the assertion is not valid");
    }

    public static TheoryData<string> HostileAssertions => new()
    {
        "x",
        "a.b.c",
        "...",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOlsiYSJdLCJzdWIiOnt9fQ.c2ln",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln",
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqd3QtaW5saW5lIiwic3ViIjoiand0LWlubGluZSIsImV4cCI6IjE3In0.c2ln",
        "eyJhbGciOiJFUzI1NiIsImtpZCI6eyJhIjoxfX0.eyJpc3MiOiJqd3QtaW5saW5lIiwic3ViIjoiand0LWlubGluZSJ9.@@@",
        new string('A', 9000),
        "e30." + new string('e', 8000) + ".x",
        "\u0000.\u0000.\u0000",
    };

    [Theory]
    [MemberData(nameof(HostileAssertions))]
    public async Task A_hostile_assertion_gets_a_clear_answer_never_a_500(string assertion)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_assertion_type"] = OidcConstants.ClientAssertionTypes.JwtBearer,
                ["client_assertion"] = assertion,
            }),
        };
        using var response = await _http.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(body.RootElement.GetProperty("error").GetString(), new[] { "invalid_client", "invalid_request" });
    }

    [Fact]
    public async Task An_unknown_assertion_type_or_an_assertion_without_its_type_is_refused()
    {
        async Task<HttpResponseMessage> SendAsync(Dictionary<string, string> form)
        {
            form["grant_type"] = "client_credentials";
            using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = new FormUrlEncodedContent(form) };
            return await _http.SendAsync(request);
        }

        using var unknownType = await SendAsync(new() { ["client_assertion_type"] = "urn:example:saml", ["client_assertion"] = InlineAssertion() });
        await ProtocolAssert.ErrorAsync(unknownType, HttpStatusCode.Unauthorized, "invalid_client");
        using var noType = await SendAsync(new() { ["client_assertion"] = InlineAssertion() });
        await ProtocolAssert.ErrorAsync(noType, HttpStatusCode.BadRequest, "invalid_request");
        using var otherClientId = await SendAsync(new()
        {
            ["client_id"] = SecretOnlyClientId,
            ["client_assertion_type"] = OidcConstants.ClientAssertionTypes.JwtBearer,
            ["client_assertion"] = InlineAssertion(),
        });
        await ProtocolAssert.ErrorAsync(otherClientId, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Discovery_lists_private_key_jwt_and_its_algorithms()
    {
        using var json = JsonDocument.Parse(await _http.GetStringAsync(".well-known/openid-configuration"));
        string[] Strings(string name) => [.. json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

        Assert.Contains("private_key_jwt", Strings("token_endpoint_auth_methods_supported"));
        Assert.Contains("private_key_jwt", Strings("introspection_endpoint_auth_methods_supported"));
        Assert.Contains("ES256", Strings("token_endpoint_auth_signing_alg_values_supported"));
        Assert.DoesNotContain("none", Strings("token_endpoint_auth_signing_alg_values_supported"));
    }
}
