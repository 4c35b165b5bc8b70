using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Keys;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Quickstart.Api;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// An API (audience api1, <c>GET /identity</c> needing scope api1) against the failures a newcomer provokes and
/// the attacks an API must survive. Every bad token is a 401, a good token without the scope a 403. Run once per
/// way of protecting an API that Castellan offers.
/// </summary>
public abstract class ApiRejectsBadTokensTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private TestApp _tokenService = null!;
    private TestApp _api = null!;
    private HttpClient _tokenHttp = null!;

    public async Task InitializeAsync()
    {
        _tokenService = await TokenServer.StartAsync(_root);
        _api = await StartApiAsync(_tokenService.BaseAddress, _root.Path);
        _tokenHttp = _tokenService.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _tokenHttp.Dispose();
        await _api.DisposeAsync();
        await _tokenService.DisposeAsync();
        _root.Dispose();
    }

    /// <summary>Starts the API under test, trusting <paramref name="authority"/>.</summary>
    protected abstract Task<TestApp> StartApiAsync(string authority, string contentRoot);

    private async Task<HttpResponseMessage> CallApiAsync(string? token)
    {
        using var http = _api.CreateClient();
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.GetAsync("identity");
    }

    private Task<string> ValidTokenAsync(string scope = "api1") => TestTokens.GetAccessTokenAsync(_tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, scope);

    [Fact]
    public async Task Valid_token_with_scope_is_accepted()
    {
        using var response = await CallApiAsync(await ValidTokenAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task No_token_returns_401_with_bearer_challenge()
    {
        using var response = await CallApiAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // The first challenge is a bare Bearer (RFC 6750 §3.1: no error without credentials); the unified scheme
        // adds a DPoP challenge after it (RFC 9449 §7.1).
        var bearer = response.Headers.WwwAuthenticate.First();
        Assert.Equal("Bearer", bearer.Scheme);
        Assert.Null(bearer.Parameter);
    }

    [Fact]
    public async Task Token_without_the_required_scope_returns_403()
    {
        // api1.other belongs to api1, so the audience is right but the scope policy is not met.
        using var response = await CallApiAsync(await ValidTokenAsync("api1.other"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Token_for_another_audience_returns_401()
    {
        using var response = await CallApiAsync(await ValidTokenAsync("api2"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Garbage_token_returns_401()
    {
        foreach (var garbage in new[] { "abc", "a.b.c", "....", new string('x', 20_000), "eyJhbGciOiJub25lIn0." })
        {
            using var response = await CallApiAsync(garbage);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Tampered_payload_returns_401()
    {
        var token = await ValidTokenAsync("api1.other");
        var parts = token.Split('.');
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1]));
        var claims = TestTokens.ToDictionary(payload.RootElement);
        claims["scope"] = "api1";
        var tampered = parts[0] + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims)) + "." + parts[2];

        using var response = await CallApiAsync(tampered);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Alg_none_returns_401()
    {
        var token = await ValidTokenAsync();
        var unsigned = TestTokens.Forge(token,
            header => new Dictionary<string, object?> { ["alg"] = "none", ["typ"] = "at+jwt", ["kid"] = header.GetProperty("kid").GetString() },
            payload => TestTokens.ToDictionary(payload),
            _ => []);

        using var response = await CallApiAsync(unsigned);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Hs256_signed_with_the_public_key_returns_401()
    {
        var token = await ValidTokenAsync();
        var jwksJson = await _tokenHttp.GetStringAsync(".well-known/openid-configuration/jwks");
        var jwk = new JsonWebKeySet(jwksJson).Keys[0];
        // The classic key-confusion attack: HMAC keyed with the server's public key material.
        var candidates = new[] { Base64UrlEncoder.DecodeBytes(jwk.N), Encoding.UTF8.GetBytes(jwksJson) };
        foreach (var hmacKey in candidates)
        {
            var forged = TestTokens.Forge(token,
                header => new Dictionary<string, object?> { ["alg"] = "HS256", ["typ"] = "at+jwt", ["kid"] = jwk.Kid },
                payload => TestTokens.ToDictionary(payload),
                input => HMACSHA256.HashData(hmacKey, input));

            using var response = await CallApiAsync(forged);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Token_signed_by_another_key_with_the_same_kid_returns_401()
    {
        var token = await ValidTokenAsync();
        using var foreign = RSA.Create(2048);
        var forged = TestTokens.Forge(token,
            header => TestTokens.ToDictionary(header),
            payload => TestTokens.ToDictionary(payload),
            input => foreign.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        using var response = await CallApiAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Token_signed_by_an_unknown_kid_returns_401()
    {
        // The API refreshes its keys once for an unknown kid (rate-limited), finds nothing, and refuses.
        var token = await ValidTokenAsync();
        using var foreign = RSA.Create(2048);
        var forged = TestTokens.Forge(token,
            header => new Dictionary<string, object?> { ["alg"] = "RS256", ["typ"] = "at+jwt", ["kid"] = "unknown-kid" },
            payload => TestTokens.ToDictionary(payload),
            input => foreign.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        using var first = await CallApiAsync(forged);
        using var second = await CallApiAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        using var valid = await CallApiAsync(token);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task Tampered_signature_returns_401()
    {
        var token = await ValidTokenAsync();
        var parts = token.Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[^1] ^= 0x01;
        using var response = await CallApiAsync(parts[0] + "." + parts[1] + "." + Base64UrlEncoder.Encode(signature));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Token_from_another_castellan_server_returns_401()
    {
        using var otherRoot = new TempDirectory();
        await using var other = await TokenServer.StartAsync(otherRoot);
        using var otherHttp = other.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(otherHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");

        using var response = await CallApiAsync(token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Token_with_typ_jwt_signed_by_the_real_key_returns_401()
    {
        // An id_token-shaped token (typ JWT) must never pass as an access token (RFC 9068 §4).
        var token = await ValidTokenAsync();
        var ring = await _tokenService.Services.GetRequiredService<KeyRingProvider>().GetAsync(default);
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        var idTokenLike = new JsonWebTokenHandler().CreateToken(payload, ring.Signing["RS256"]);
        Assert.Equal("JWT", new JsonWebToken(idTokenLike).Typ);

        using var response = await CallApiAsync(idTokenLike);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Expired_token_returns_401()
    {
        using var pastRoot = new TempDirectory();
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-3));
        await using var pastServer = await TokenServer.StartAsync(pastRoot, time: past);
        using var pastHttp = pastServer.CreateClient();
        // Same issuer is needed to isolate the lifetime check, so validate the expired token against its own server.
        var expired = await TestTokens.GetAccessTokenAsync(pastHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        await using var api = await StartApiAsync(pastServer.BaseAddress, pastRoot.Path);
        using var http = api.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", expired);

        using var response = await http.GetAsync("identity");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", response.Headers.WwwAuthenticate.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Wrong_client_id_or_secret_gets_invalid_client_from_identity_model()
    {
        foreach (var (id, secret) in new[] { ("nobody", TokenServer.ClientSecret), (TokenServer.ClientId, "wrong") })
        {
            var response = await _tokenHttp.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
            {
                Address = _tokenService.BaseAddress + "/connect/token",
                ClientId = id,
                ClientSecret = secret,
                Scope = "api1",
            });
            Assert.True(response.IsError);
            // RFC 6749 §5.2: invalid_client is a 401; IdentityModel reports it as an HTTP error and keeps the body.
            Assert.Equal(HttpStatusCode.Unauthorized, response.HttpStatusCode);
            Assert.Contains("\"error\":\"invalid_client\"", response.Raw, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unknown_scope_gets_invalid_scope_from_identity_model()
    {
        var response = await _tokenHttp.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = _tokenService.BaseAddress + "/connect/token",
            ClientId = TokenServer.ClientId,
            ClientSecret = TokenServer.ClientSecret,
            Scope = "api1 nonexistent",
        });
        Assert.Equal("invalid_scope", response.Error);
        Assert.Equal(HttpStatusCode.BadRequest, response.HttpStatusCode);
    }
}

/// <summary>The quickstart API: Castellan.ApiProtection over Microsoft's JwtBearer (<c>AddCastellanJwtBearer</c>).</summary>
public sealed class JwtBearerApiRejectsBadTokensTests : ApiRejectsBadTokensTests
{
    protected override Task<TestApp> StartApiAsync(string authority, string contentRoot)
        => TestApp.StartAsync(ApiApp.Build(TestApp.Args(contentRoot, 0, $"--Authority={authority}")));
}

/// <summary>The same API on Castellan's own scheme for JWTs and reference tokens (<c>AddCastellanApi</c>).</summary>
public sealed class UnifiedSchemeApiRejectsBadTokensTests : ApiRejectsBadTokensTests
{
    protected override Task<TestApp> StartApiAsync(string authority, string contentRoot)
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(contentRoot));
        builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(options =>
        {
            options.Authority = authority;
            options.Audiences = ["api1"];
            options.ApiSecret = TokenServer.Api1Secret;
        });
        var app = builder.Build();
        app.MapGet("/identity", (HttpContext context) => context.User.FindFirst("client_id")?.Value).RequireScope("api1");
        return TestApp.StartAsync(app);
    }
}
