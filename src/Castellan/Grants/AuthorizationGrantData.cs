using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Castellan.Stores;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Grants;

/// <summary>
/// What a user authorized, as stored with an authorization code and with each refresh token rotated from it: the
/// grant's scopes and resources, and how and when the user authenticated (for <c>auth_time</c>, <c>amr</c>,
/// <c>acr</c> and <c>sid</c> in later tokens).
/// </summary>
internal sealed record AuthorizationGrantData
{
    /// <summary>Every granted scope: identity scopes, API scopes and <c>offline_access</c>.</summary>
    public required string[] Scopes { get; init; }

    /// <summary>RFC 8707 resource indicators the grant was narrowed to; empty when none.</summary>
    public string[] ResourceIndicators { get; init; } = [];

    public required long AuthTime { get; init; }

    public string[] Amr { get; init; } = [];

    public string? Acr { get; init; }

    /// <summary>When the authorization happened (unix seconds): the start of the refresh tokens' absolute lifetime.</summary>
    public required long AuthorizedAt { get; init; }

    // Code only (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3.7).
    public string? RedirectUri { get; init; }

    public string? CodeChallenge { get; init; }

    public string? CodeChallengeMethod { get; init; }

    public string? Nonce { get; init; }

    /// <summary>
    /// The thumbprint of the DPoP key the grant is bound to, or null: for a code, the authorize request's
    /// <c>dpop_jkt</c> (RFC 9449 §10); for a refresh token, the key of the proof it was issued with (§5).
    /// </summary>
    public string? DPoPKeyThumbprint { get; init; }

    /// <summary>Refresh tokens only: the <c>x5t#S256</c> of the client certificate they are bound to (RFC 8705 §4), or null.</summary>
    public string? CertificateThumbprint { get; init; }

    public string Serialize() => JsonSerializer.Serialize(this, GrantDataJsonContext.Default.AuthorizationGrantData);

    public static AuthorizationGrantData? Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, GrantDataJsonContext.Default.AuthorizationGrantData);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSerializable(typeof(AuthorizationGrantData))]
[JsonSerializable(typeof(string[]))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class GrantDataJsonContext : JsonSerializerContext;

/// <summary>Handles (codes, refresh tokens) and the store keys that are hashes of them.</summary>
internal static class GrantHandles
{
    /// <summary>256 random bits, base64url: 43 characters.</summary>
    public static string New() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>The store key: the grant type and a SHA-256 of the handle, so a leaked store holds no usable handle.</summary>
    public static string KeyFor(string type, string handle)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(handle), hash);
        return type + ":" + Base64UrlEncoder.Encode(hash.ToArray());
    }

    public static string NewFamilyId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
}
