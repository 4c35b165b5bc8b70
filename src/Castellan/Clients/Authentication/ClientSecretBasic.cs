using System.Buffers.Text;
using System.Net;
using System.Text;
using Castellan.Protocol;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>client_secret_basic</c> (RFC 6749 §2.3.1): the id and secret, each form-urlencoded, in an HTTP Basic
/// <c>Authorization</c> header.
/// </summary>
internal sealed class ClientSecretBasic : SharedSecretMethod
{
    private static readonly ProtocolError Malformed = new(OAuthErrors.InvalidClient, "The Basic authorization header is malformed.");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override string Name => ClientAuthenticationMethods.ClientSecretBasic;

    public override Outcome<PresentedCredentials>? Read(ClientRequest request)
    {
        var authorization = request.Http.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } header)
        {
            return null;
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            // A bare "Basic" is a malformed Basic header; another scheme (Bearer, ...) is no client authentication.
            if (header.Trim().Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                return Malformed;
            }

            return null;
        }

        if (!TryParse(header.AsSpan(6).Trim(), request.Limits, out var id, out var secret))
        {
            return Malformed;
        }

        if (request.FormValue(OAuthParameters.ClientId) is { } formId && !string.Equals(formId, id, StringComparison.Ordinal))
        {
            return ProtocolError.InvalidRequest("The client_id parameter does not match the authenticated client.");
        }

        // "id:" carries no secret: it is authenticated (or refused) as a request with none, never compared against a
        // stored hash, so no configured secret can be matched by sending nothing.
        return new PresentedCredentials(id, secret.Length == 0 ? NoClientAuthentication.Instance : this, secret.Length == 0 ? null : secret);
    }

    private static bool TryParse(ReadOnlySpan<char> encoded, InputLengthRestrictions limits, out string id, out string secret)
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
