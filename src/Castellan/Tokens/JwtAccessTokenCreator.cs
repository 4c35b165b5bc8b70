using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.Keys;
using Castellan.Protocol;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tokens;

/// <summary>
/// Creates JWT access tokens per RFC 9068 with Microsoft.IdentityModel's <see cref="JsonWebTokenHandler"/>.
/// The payload is written with <see cref="Utf8JsonWriter"/> (no claim dictionaries), and the handler only
/// encodes and signs.
/// </summary>
internal sealed class JwtAccessTokenCreator
{
    // RFC 9068 §2.1: typ is "at+jwt", so an access token cannot be mistaken for an id_token.
    private static readonly Dictionary<string, object> Header = new(StringComparer.Ordinal) { ["typ"] = TokenTypes.AccessTokenJwt };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <returns>The compact JWS, or null when none of the allowed algorithms has a key.</returns>
    public string? Create(AccessTokenDescriptor descriptor, KeyRing keys)
    {
        var credentials = SelectCredentials(descriptor.AllowedSigningAlgorithms, keys);
        if (credentials is null)
        {
            return null;
        }

        return _handler.CreateToken(WritePayload(descriptor), credentials, Header);
    }

    internal static SigningCredentials? SelectCredentials(IReadOnlyList<string> allowed, KeyRing keys)
    {
        if (allowed.Count == 0)
        {
            return keys.Signing[keys.DefaultAlgorithm];
        }

        // Prefer the server default when the API accepts it, else the API's first choice we have a key for.
        for (var i = 0; i < allowed.Count; i++)
        {
            if (allowed[i] == keys.DefaultAlgorithm)
            {
                return keys.Signing[keys.DefaultAlgorithm];
            }
        }

        for (var i = 0; i < allowed.Count; i++)
        {
            if (keys.Signing.TryGetValue(allowed[i], out var credentials))
            {
                return credentials;
            }
        }

        return null;
    }

    internal static string WritePayload(AccessTokenDescriptor d)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var iat = d.IssuedAt.ToUnixTimeSeconds();
            writer.WriteStartObject();
            writer.WriteString(JwtClaimNames.Issuer, d.Issuer);
            writer.WriteNumber(JwtClaimNames.Expires, iat + d.LifetimeSeconds);
            writer.WriteNumber(JwtClaimNames.IssuedAt, iat);
            writer.WriteNumber(JwtClaimNames.NotBefore, iat);
            writer.WriteString(JwtClaimNames.JwtId, NewJwtId());
            if (d.Audiences.Count == 1)
            {
                writer.WriteString(JwtClaimNames.Audience, d.Audiences[0]);
            }
            else if (d.Audiences.Count > 1)
            {
                writer.WriteStartArray(JwtClaimNames.Audience);
                foreach (var audience in d.Audiences)
                {
                    writer.WriteStringValue(audience);
                }

                writer.WriteEndArray();
            }

            writer.WriteString(JwtClaimNames.Subject, d.Subject);
            writer.WriteString(JwtClaimNames.ClientId, d.ClientId);
            WriteAuthentication(writer, d.SessionId, d.AuthTime, d.Acr, d.Amr);

            if (d.Confirmation is not null)
            {
                writer.WritePropertyName("cnf");
                writer.WriteRawValue(d.Confirmation);
            }

            if (d.Scopes.Count > 0)
            {
                // RFC 9068 §2.2.3: scope is a space-delimited string, as in RFC 8693 §4.2.
                writer.WriteString(JwtClaimNames.Scope, JoinScopes(d.Scopes));
            }

            foreach (var claim in d.Claims)
            {
                claim.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// How and when the user authenticated, written the same in access tokens (RFC 9068 §2.2.1) and id_tokens
    /// (OIDC Core §2): <c>sid</c>, <c>auth_time</c>, <c>acr</c>, <c>amr</c>, each only when known.
    /// </summary>
    internal static void WriteAuthentication(Utf8JsonWriter writer, string? sessionId, DateTimeOffset? authTime, string? acr, IReadOnlyList<string> amr)
    {
        if (sessionId is not null)
        {
            writer.WriteString("sid", sessionId);
        }

        if (authTime is { } time)
        {
            writer.WriteNumber("auth_time", time.ToUnixTimeSeconds());
        }

        if (acr is not null)
        {
            writer.WriteString("acr", acr);
        }

        if (amr.Count > 0)
        {
            writer.WriteStartArray("amr");
            foreach (var method in amr)
            {
                writer.WriteStringValue(method);
            }

            writer.WriteEndArray();
        }
    }

    internal static string JoinScopes(IReadOnlyList<string> scopes) => scopes.Count == 1 ? scopes[0] : string.Join(' ', scopes);

    internal static string NewJwtId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexString(bytes);
    }
}
