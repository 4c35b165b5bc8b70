using System.Security.Cryptography;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Samples;

/// <summary>
/// Just enough of an OpenID Provider on Kestrel for a relying party to validate tokens: a discovery document and
/// a JWKS with one RSA key, whose private half signs the tokens the test writes.
/// </summary>
public sealed class FakeOpenIdProvider : IAsyncDisposable
{
    private readonly RSA _rsa;
    private readonly TestApp _app;

    private FakeOpenIdProvider(TestApp app, RSA rsa)
    {
        _app = app;
        _rsa = rsa;
        SigningKey = new RsaSecurityKey(rsa) { KeyId = "fake-op-key" };
    }

    /// <summary>The issuer, which is also the base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Issuer => _app.BaseAddress;

    public RsaSecurityKey SigningKey { get; }

    public static async Task<FakeOpenIdProvider> StartAsync(string contentRoot)
    {
        var rsa = RSA.Create(2048);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false)) { KeyId = "fake-op-key" });
        var app = WebApplication.CreateBuilder(TestApp.Args(contentRoot)).Build();
        var jwks = JsonSerializer.Serialize(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = jwk.Kid, n = jwk.N, e = jwk.E } } });
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) =>
        {
            var issuer = $"{context.Request.Scheme}://{context.Request.Host}";
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = issuer,
                ["jwks_uri"] = issuer + "/jwks",
                ["authorization_endpoint"] = issuer + "/connect/authorize",
                ["token_endpoint"] = issuer + "/connect/token",
                ["end_session_endpoint"] = issuer + "/connect/endsession",
                ["response_types_supported"] = new[] { "code" },
                ["subject_types_supported"] = new[] { "public" },
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                ["backchannel_logout_supported"] = true,
                ["backchannel_logout_session_supported"] = true,
            });
        });
        app.MapGet("/jwks", () => Results.Text(jwks, "application/json"));
        return new FakeOpenIdProvider(await TestApp.StartAsync(app), rsa);
    }

    /// <summary>
    /// A JWT signed with <see cref="SigningKey"/> (or <paramref name="key"/>): header <c>typ</c> and the payload
    /// exactly as given, with no claims added.
    /// </summary>
    public string CreateToken(string? type, IDictionary<string, object> payload, SecurityKey? key = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            TokenType = type,
            Claims = payload,
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _rsa.Dispose();
    }
}
