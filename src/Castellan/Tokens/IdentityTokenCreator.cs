using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.Keys;
using Castellan.Protocol;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tokens;

/// <summary>What goes into one id_token (OIDC Core §2).</summary>
internal sealed class IdentityTokenDescriptor
{
    public required string Issuer { get; init; }

    public required string ClientId { get; init; }

    public required string Subject { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    public required int LifetimeSeconds { get; init; }

    public required DateTimeOffset AuthTime { get; init; }

    public string? Nonce { get; init; }

    public string? SessionId { get; init; }

    public string? Acr { get; init; }

    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>The access token issued with this id_token, for <c>at_hash</c> (OIDC Core §3.1.3.6).</summary>
    public string? AccessToken { get; init; }

    public IReadOnlyList<TokenClaim> Claims { get; init; } = [];
}

/// <summary>
/// Creates id_tokens (OIDC Core §2, §3.1.3.6) and back-channel logout tokens (Back-Channel Logout 1.0 §2.4), signed
/// with the server's default algorithm through <see cref="JsonWebTokenHandler"/>. The <c>typ</c> headers (<c>JWT</c>,
/// <c>logout+jwt</c>) differ from access tokens' <c>at+jwt</c>, so no token passes for another kind.
/// </summary>
internal sealed class IdentityTokenCreator
{
    private static readonly Dictionary<string, object> IdTokenHeader = new(StringComparer.Ordinal) { ["typ"] = TokenTypes.IdTokenJwt };
    private static readonly Dictionary<string, object> LogoutTokenHeader = new(StringComparer.Ordinal) { ["typ"] = TokenTypes.LogoutTokenJwt };

    /// <summary>Back-Channel Logout 1.0 §2.4: the member of <c>events</c> that marks a logout token.</summary>
    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Create(IdentityTokenDescriptor d, KeyRing keys)
    {
        var credentials = keys.Signing[keys.DefaultAlgorithm];
        var buffer = Buffer();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var iat = d.IssuedAt.ToUnixTimeSeconds();
            writer.WriteStartObject();
            writer.WriteString(JwtClaimNames.Issuer, d.Issuer);
            writer.WriteString(JwtClaimNames.Subject, d.Subject);
            writer.WriteString(JwtClaimNames.Audience, d.ClientId);
            writer.WriteNumber(JwtClaimNames.Expires, iat + d.LifetimeSeconds);
            writer.WriteNumber(JwtClaimNames.IssuedAt, iat);
            if (d.Nonce is not null)
            {
                writer.WriteString("nonce", d.Nonce);
            }

            JwtAccessTokenCreator.WriteAuthentication(writer, d.SessionId, d.AuthTime, d.Acr, d.Amr);

            if (d.AccessToken is not null)
            {
                writer.WriteString("at_hash", LeftHalfHash(d.AccessToken, credentials.Algorithm));
            }

            foreach (var claim in d.Claims)
            {
                claim.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return _handler.CreateToken(Encoding.UTF8.GetString(buffer.WrittenSpan), credentials, IdTokenHeader);
    }

    /// <summary>Back-Channel Logout 1.0 §2.4: iss, aud, iat, exp, jti, events, and sid and/or sub; never a nonce.</summary>
    public string CreateLogoutToken(string issuer, string clientId, string? subject, string? sessionId, DateTimeOffset now, KeyRing keys)
    {
        var buffer = Buffer();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var iat = now.ToUnixTimeSeconds();
            writer.WriteStartObject();
            writer.WriteString(JwtClaimNames.Issuer, issuer);
            writer.WriteString(JwtClaimNames.Audience, clientId);
            writer.WriteNumber(JwtClaimNames.IssuedAt, iat);
            writer.WriteNumber(JwtClaimNames.Expires, iat + 300);
            writer.WriteString(JwtClaimNames.JwtId, JwtAccessTokenCreator.NewJwtId());
            if (subject is not null)
            {
                writer.WriteString(JwtClaimNames.Subject, subject);
            }

            if (sessionId is not null)
            {
                writer.WriteString("sid", sessionId);
            }

            writer.WriteStartObject("events");
            writer.WriteStartObject(BackChannelLogoutEvent);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return _handler.CreateToken(Encoding.UTF8.GetString(buffer.WrittenSpan), keys.Signing[keys.DefaultAlgorithm], LogoutTokenHeader);
    }

    /// <summary>
    /// OIDC Core §3.1.3.6: base64url of the left half of the hash of the token's ASCII, the hash being the one of the
    /// id_token's signing algorithm (SHA-256 for RS256, PS256 and ES256).
    /// </summary>
    internal static string LeftHalfHash(string token, string algorithm)
    {
        Span<byte> hash = stackalloc byte[64];
        var bytes = Encoding.ASCII.GetBytes(token);
        var length = algorithm switch
        {
            SecurityAlgorithms.RsaSha384 or SecurityAlgorithms.RsaSsaPssSha384 or SecurityAlgorithms.EcdsaSha384 => SHA384.HashData(bytes, hash),
            SecurityAlgorithms.RsaSha512 or SecurityAlgorithms.RsaSsaPssSha512 or SecurityAlgorithms.EcdsaSha512 => SHA512.HashData(bytes, hash),
            _ => SHA256.HashData(bytes, hash),
        };
        return Base64UrlEncoder.Encode(hash[..(length / 2)].ToArray());
    }

    private static ArrayBufferWriter<byte> Buffer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        return buffer;
    }
}

/// <summary>An id_token this server issued, as a hint: who it names and for which client.</summary>
internal sealed record IdTokenHint(string Subject, string? SessionId, IReadOnlyList<string> Audiences);

/// <summary>
/// Validates an <c>id_token_hint</c> (OIDC Core §3.1.2.1, RP-Initiated Logout 1.0 §2): signed by this server's keys,
/// of this issuer, typed as an id_token; expired ones are accepted, as both specs allow.
/// </summary>
internal sealed class IdTokenHintValidator(KeyRingProvider keys)
{
    private readonly JsonWebTokenHandler _handler = new();

    public async ValueTask<IdTokenHint?> ValidateAsync(string token, string issuer, CancellationToken cancellationToken)
    {
        var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireSignedTokens = true,
            IssuerSigningKeys = ring.ValidationKeys,
            ValidTypes = [TokenTypes.IdTokenJwt],
            ValidAlgorithms = SigningAlgorithms.Supported,
        }).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt || !jwt.TryGetPayloadValue<string>(JwtClaimNames.Subject, out var subject)
            || string.IsNullOrEmpty(subject))
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>("sid", out var sid);
        return new IdTokenHint(subject, sid, jwt.Audiences.ToArray());
    }
}
