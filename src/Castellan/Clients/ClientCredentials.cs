using System.Buffers.Text;
using System.Net;
using System.Text;
using Castellan.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Castellan.Clients;

/// <summary>What a request presents to authenticate its client, before anything is looked up.</summary>
internal readonly record struct ClientCredentials(string ClientId, string? Secret, string Method);

/// <summary>
/// Extracts client credentials from a token request (RFC 6749 §2.3.1): HTTP Basic or the
/// <c>client_id</c>/<c>client_secret</c> form parameters, never both.
/// </summary>
internal static class ClientCredentialsParser
{
    private static readonly ProtocolError MalformedBasic =
        new(OAuthErrors.InvalidClient, "The Basic authorization header is malformed.");

    private static readonly ProtocolError TwoMethods =
        ProtocolError.InvalidRequest("The client used more than one authentication method.");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly ProtocolError NoCredentials = new(OAuthErrors.InvalidClient, "No client authentication was included.");

    public static Outcome<ClientCredentialsBox> Parse(StringValues authorization, IFormCollection form, InputLengthRestrictions limits)
    {
        var formId = SingleOrNull(form, OAuthParameters.ClientId);
        var formSecret = SingleOrNull(form, OAuthParameters.ClientSecret);

        if (authorization.Count == 1 && authorization[0] is { } header
            && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            if (formSecret is not null)
            {
                // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request.
                return TwoMethods;
            }

            if (!TryParseBasic(header.AsSpan(6).Trim(), limits, out var id, out var secret))
            {
                return MalformedBasic;
            }

            if (formId is not null && !string.Equals(formId, id, StringComparison.Ordinal))
            {
                return ProtocolError.InvalidRequest("The client_id parameter does not match the authenticated client.");
            }

            // "id:" carries no secret: it is authenticated (or refused) like a request with none, never compared
            // against a stored hash, so no configured secret can be matched by sending nothing.
            return new ClientCredentialsBox(secret.Length == 0
                ? new ClientCredentials(id, null, ClientAuthenticationMethods.None)
                : new ClientCredentials(id, secret, ClientAuthenticationMethods.ClientSecretBasic));
        }

        if (authorization.Count > 1)
        {
            return ProtocolError.InvalidRequest("The Authorization header was sent more than once.");
        }

        if (formId is null)
        {
            // A bare "Basic" is a malformed Basic header; a scheme this endpoint does not take (Bearer, ...) is no
            // client authentication. Both are 401 invalid_client with the Basic challenge (TokenResult).
            if (authorization.Count == 1 && authorization[0]!.Trim().Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                return MalformedBasic;
            }

            return NoCredentials;
        }

        if (formId.Length > limits.ClientId || (formSecret?.Length ?? 0) > limits.ClientSecret)
        {
            return ProtocolError.InvalidClient;
        }

        return new ClientCredentialsBox(new ClientCredentials(formId, formSecret,
            formSecret is null ? ClientAuthenticationMethods.None : ClientAuthenticationMethods.ClientSecretPost));
    }

    private static string? SingleOrNull(IFormCollection form, string name)
    {
        // Duplicates were rejected by the request parser; an empty value counts as absent (RFC 6749 §3.1).
        var value = form[name];
        return value.Count == 1 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;
    }

    private static bool TryParseBasic(ReadOnlySpan<char> encoded, InputLengthRestrictions limits, out string id, out string secret)
    {
        id = secret = "";
        var maxEncoded = ((limits.ClientId + limits.ClientSecret) * 3 + 1) / 3 * 4 + 4;
        if (encoded.IsEmpty || encoded.Length > maxEncoded)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
        if (!Convert.TryFromBase64Chars(encoded, bytes, out var written))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(bytes[..written]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        // RFC 6749 §2.3.1: id and secret are form-urlencoded before being put into the Basic header.
        id = WebUtility.UrlDecode(decoded[..colon]);
        secret = WebUtility.UrlDecode(decoded[(colon + 1)..]);
        return id.Length > 0 && id.Length <= limits.ClientId && secret.Length <= limits.ClientSecret;
    }
}

/// <summary>Reference wrapper so the credentials can travel in an <see cref="Outcome{T}"/>.</summary>
internal sealed record ClientCredentialsBox(ClientCredentials Credentials);
