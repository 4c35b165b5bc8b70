using System.Buffers;
using System.Text;
using System.Text.Json;
using Castellan.Endpoints.Token;
using Castellan.Keys;
using Castellan.Protocol;
using Castellan.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Net.Http.Headers;

namespace Castellan.Endpoints.Introspection;

/// <summary>
/// Writes the introspection response: JSON (RFC 7662 §2.2) or, when the caller accepts
/// <c>application/token-introspection+jwt</c>, a signed JWT (RFC 9701).
/// </summary>
internal sealed class IntrospectionResponseWriter(KeyRingProvider keys, TimeProvider time)
{
    public const string JwtMediaType = "application/token-introspection+jwt";
    private static readonly byte[] Inactive = """{"active":false}"""u8.ToArray();
    private static readonly Dictionary<string, object> JwtHeader = new(StringComparer.Ordinal) { ["typ"] = "token-introspection+jwt" };
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task WriteAsync(HttpContext context, string issuer, IntrospectionCaller caller, ValidatedAccessToken? token, CancellationToken cancellationToken)
    {
        var response = context.Response;
        TokenResult.SetNoStore(response);
        if (WantsJwt(context.Request))
        {
            var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
            var payload = WriteJwtPayload(issuer, caller.Id, token);
            response.ContentType = JwtMediaType;
            await response.WriteAsync(_handler.CreateToken(payload, ring.Signing[ring.DefaultAlgorithm], JwtHeader), cancellationToken).ConfigureAwait(false);
            return;
        }

        response.ContentType = "application/json; charset=utf-8";
        if (token is null)
        {
            await response.Body.WriteAsync(Inactive, cancellationToken).ConfigureAwait(false);
            return;
        }

        using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            WriteActive(writer, token);
        }

        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool WantsJwt(HttpRequest request)
    {
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            if (accept.MediaType.Equals(JwtMediaType, StringComparison.OrdinalIgnoreCase) && accept.Quality is not 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>active, token_type, then every claim of the token (scope, client_id, sub, exp, iat, nbf, aud, iss, jti, cnf...).</summary>
    private static void WriteActive(Utf8JsonWriter writer, ValidatedAccessToken token)
    {
        using var claims = JsonDocument.Parse(token.PayloadJson);
        writer.WriteStartObject();
        writer.WriteBoolean("active", true);
        writer.WriteString("token_type", token.TokenType);
        foreach (var claim in claims.RootElement.EnumerateObject())
        {
            if (claim.Name is not ("active" or "token_type"))
            {
                claim.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>RFC 9701 §5: iss, aud (the caller), iat, and the introspection response as <c>token_introspection</c>.</summary>
    private string WriteJwtPayload(string issuer, string audience, ValidatedAccessToken? token)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(JwtClaimNames.Issuer, issuer);
            writer.WriteString(JwtClaimNames.Audience, audience);
            writer.WriteNumber(JwtClaimNames.IssuedAt, time.GetUtcNow().ToUnixTimeSeconds());
            writer.WritePropertyName("token_introspection");
            if (token is null)
            {
                writer.WriteStartObject();
                writer.WriteBoolean("active", false);
                writer.WriteEndObject();
            }
            else
            {
                WriteActive(writer, token);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
