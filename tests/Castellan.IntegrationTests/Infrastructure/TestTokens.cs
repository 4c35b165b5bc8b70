using System.Net.Http.Headers;
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
