using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>Token helpers for tests: requesting with raw HTTP, verifying against the JWKS, forging bad tokens.</summary>
public static class TestTokens
{
    public static async Task<HttpResponseMessage> RequestAsync(HttpClient http, string clientId, string secret, string? scope = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(Basic(clientId, secret));
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        request.Content = new FormUrlEncodedContent(form);
        return await http.SendAsync(request);
    }

    /// <summary>An Authorization header value for client_secret_basic: id and secret form-urlencoded first (RFC 6749 §2.3.1).</summary>
    public static string Basic(string id, string secret)
        => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}"));

    public static async Task<string> GetAccessTokenAsync(HttpClient http, string clientId, string secret, string? scope = null)
    {
        using var response = await RequestAsync(http, clientId, secret, scope);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public static async Task<JsonWebKeySet> GetJwksAsync(HttpClient http)
        => new(await http.GetStringAsync(".well-known/openid-configuration/jwks"));

    /// <summary>Validates like an API would: signature from the JWKS, issuer, audience, lifetime, typ at+jwt.</summary>
    public static async Task<TokenValidationResult> ValidateAsync(HttpClient http, string token, string issuer, string audience)
    {
        var jwks = await GetJwksAsync(http);
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = ["RS256", "PS256", "ES256"],
        });
    }

    /// <summary>
    /// A client assertion (RFC 7523 §3) of <paramref name="clientId"/> for <paramref name="audience"/>: iss and sub the
    /// client, a fresh jti, valid for a minute, typ client-authentication+jwt; <paramref name="change"/> breaks it.
    /// </summary>
    public static string ClientAssertion(string clientId, string audience, SecurityKey key, string algorithm, Action<SecurityTokenDescriptor>? change = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", clientId), new Claim("jti", Guid.NewGuid().ToString("N"))]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(1),
            TokenType = "client-authentication+jwt",
            SigningCredentials = new SigningCredentials(key, algorithm),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A client_credentials request authenticated by <paramref name="assertion"/> (RFC 7523 §2.2), sent by Duende.IdentityModel.</summary>
    public static Task<Duende.IdentityModel.Client.TokenResponse> RequestWithAssertionAsync(HttpClient http, string clientId, string assertion, string? scope = "api1")
        => Duende.IdentityModel.Client.HttpClientTokenRequestExtensions.RequestClientCredentialsTokenAsync(http, new Duende.IdentityModel.Client.ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientCredentialStyle = Duende.IdentityModel.Client.ClientCredentialStyle.PostBody,
            ClientAssertion = new Duende.IdentityModel.Client.ClientAssertion { Type = Duende.IdentityModel.OidcConstants.ClientAssertionTypes.JwtBearer, Value = assertion },
            Scope = scope,
        });

    /// <summary>A 401 invalid_client (RFC 6749 §5.2), whose reason the server logged as <paramref name="logged"/>.</summary>
    public static void AssertInvalidClient(Duende.IdentityModel.Client.TokenResponse response, LogCollector logs, string logged)
    {
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.HttpStatusCode);

        // Duende reports a 401 as an HTTP error; the body holds the OAuth error.
        using var body = JsonDocument.Parse(response.Raw!);
        Assert.Equal("invalid_client", body.RootElement.GetProperty("error").GetString());
        Assert.Contains(logs.Entries, e => e.Message.Contains(logged, StringComparison.Ordinal));
    }

    /// <summary>Re-encodes a token's header and payload (after <paramref name="edit"/>) with the given signature bytes.</summary>
    public static string Forge(string token, Func<JsonElement, object> header, Func<JsonElement, object> payload, Func<byte[], byte[]> sign)
    {
        var parts = token.Split('.');
        using var h = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[0]));
        using var p = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1]));
        var signingInput = Base64UrlEncoder.Encode(JsonSerializer.Serialize(header(h.RootElement))) + "." +
                           Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload(p.RootElement)));
        return signingInput + "." + Base64UrlEncoder.Encode(sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The JSON object as a mutable dictionary, for editing claims.</summary>
    public static Dictionary<string, object?> ToDictionary(JsonElement element)
        => element.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
}
