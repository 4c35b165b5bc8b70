using System.Security.Cryptography;
using System.Text;
using Castellan.Protocol;

namespace Castellan.Pkce;

/// <summary>
/// Proof Key for Code Exchange (RFC 7636), as the authorize endpoint and the authorization code grant use it:
/// the challenge is checked when a code is requested, the verifier when it is redeemed. <c>S256</c> is the
/// method; <c>plain</c> only for a client that allows it (RFC 9700 §2.1.1 and §4.8).
/// </summary>
internal static class PkceValidator
{
    public const string S256 = "S256";
    public const string Plain = "plain";

    /// <summary>RFC 7636 §4.1: 43 to 128 characters of the unreserved set.</summary>
    public const int MinLength = 43;
    public const int MaxLength = 128;

    private static readonly ProtocolError MissingChallenge = ProtocolError.InvalidRequest("code_challenge is required.");
    private static readonly ProtocolError BadChallenge = ProtocolError.InvalidRequest("code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'.");
    private static readonly ProtocolError BadS256Challenge = ProtocolError.InvalidRequest("An S256 code_challenge is the base64url SHA-256 of the verifier: exactly 43 characters.");
    private static readonly ProtocolError PlainRefused = ProtocolError.InvalidRequest("code_challenge_method must be S256.");
    private static readonly ProtocolError UnknownMethod = ProtocolError.InvalidRequest("code_challenge_method is not supported; use S256.");
    private static readonly ProtocolError MethodWithoutChallenge = ProtocolError.InvalidRequest("code_challenge_method was sent without code_challenge.");

    private static readonly ProtocolError VerifierMissing = new(OAuthErrors.InvalidGrant, "code_verifier is required.");
    private static readonly ProtocolError VerifierUnexpected = new(OAuthErrors.InvalidGrant, "code_verifier was sent for a code issued without code_challenge.");
    private static readonly ProtocolError VerifierMalformed = ProtocolError.InvalidRequest("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'.");
    private static readonly ProtocolError VerifierMismatch = new(OAuthErrors.InvalidGrant, "The authorization code is invalid.");

    /// <summary>
    /// Checks the PKCE parameters of an authorization request (RFC 7636 §4.3, §4.4.1).
    /// </summary>
    /// <param name="method">The method to store with the code: <c>S256</c>, <c>plain</c>, or null when no challenge was sent.</param>
    /// <returns>Null when the request may proceed, else the <c>invalid_request</c> to redirect with.</returns>
    public static ProtocolError? ValidateChallenge(string? challenge, string? requestedMethod, bool requirePkce, bool allowPlainText, out string? method)
    {
        method = null;
        if (string.IsNullOrEmpty(challenge))
        {
            if (!string.IsNullOrEmpty(requestedMethod))
            {
                return MethodWithoutChallenge;
            }

            return requirePkce ? MissingChallenge : null;
        }

        if (!IsUnreservedOfLength(challenge))
        {
            return BadChallenge;
        }

        // RFC 7636 §4.3: "plain" when the method is omitted. A downgrade to plain is refused unless the client may.
        var chosen = string.IsNullOrEmpty(requestedMethod) ? Plain : requestedMethod;
        if (chosen == S256)
        {
            // A SHA-256 in base64url without padding is exactly 43 characters.
            if (challenge.Length != 43)
            {
                return BadS256Challenge;
            }
        }
        else if (chosen == Plain)
        {
            if (!allowPlainText)
            {
                return PlainRefused;
            }
        }
        else
        {
            return UnknownMethod;
        }

        method = chosen;
        return null;
    }

    /// <summary>
    /// Checks the <c>code_verifier</c> of a token request against what was stored with the code (RFC 7636 §4.6).
    /// A verifier for a code issued without a challenge is refused too (RFC 9700 §4.8: otherwise an attacker who
    /// injected a code without PKCE could redeem it alongside a victim's verifier).
    /// </summary>
    /// <returns>Null when the code may be redeemed, else the error for the token response.</returns>
    public static ProtocolError? VerifyRedemption(string? storedChallenge, string? storedMethod, string? verifier)
    {
        if (string.IsNullOrEmpty(storedChallenge))
        {
            return string.IsNullOrEmpty(verifier) ? null : VerifierUnexpected;
        }

        if (string.IsNullOrEmpty(verifier))
        {
            return VerifierMissing;
        }

        if (!IsUnreservedOfLength(verifier))
        {
            return VerifierMalformed;
        }

        Span<byte> expected = stackalloc byte[MaxLength];
        Span<byte> actual = stackalloc byte[MaxLength];
        var expectedLength = Encoding.ASCII.GetBytes(storedChallenge, expected);
        int actualLength;
        if (storedMethod == S256)
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            Span<byte> ascii = stackalloc byte[MaxLength];
            SHA256.HashData(ascii[..Encoding.ASCII.GetBytes(verifier, ascii)], hash);
            actualLength = Base64UrlWrite(hash, actual);
        }
        else if (storedMethod == Plain)
        {
            actualLength = Encoding.ASCII.GetBytes(verifier, actual);
        }
        else
        {
            return VerifierMismatch;
        }

        // Constant time over the stored challenge's length, so the comparison does not tell how much matched.
        return expectedLength == actualLength && CryptographicOperations.FixedTimeEquals(expected[..expectedLength], actual[..actualLength])
            ? null
            : VerifierMismatch;
    }

    /// <summary>The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))), as clients compute it.</summary>
    public static string S256Challenge(string verifier)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(verifier), hash);
        Span<byte> encoded = stackalloc byte[64];
        return Encoding.ASCII.GetString(encoded[..Base64UrlWrite(hash, encoded)]);
    }

    private static int Base64UrlWrite(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        System.Buffers.Text.Base64Url.EncodeToUtf8(data, destination, out _, out var written);
        return written;
    }

    /// <summary>RFC 7636 §4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~", 43 to 128 of them.</summary>
    internal static bool IsUnreservedOfLength(string value)
        => value.Length is >= MinLength and <= MaxLength
           && value.AsSpan().IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") < 0;
}
