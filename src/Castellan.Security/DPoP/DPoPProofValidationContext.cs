using Microsoft.Extensions.Primitives;

namespace Castellan.Security;

/// <summary>What one request offers for DPoP validation.</summary>
public sealed class DPoPProofValidationContext
{
    /// <summary>The request's <c>DPoP</c> header values as received (<c>request.Headers["DPoP"]</c>); exactly one is
    /// required (RFC 9449 §4.3 step 1).</summary>
    public required StringValues ProofHeader { get; init; }

    /// <summary>The request's HTTP method, compared with <c>htm</c> case-sensitively (RFC 9110 §9.1).</summary>
    public required string Method { get; init; }

    /// <summary>
    /// The URI the request was sent to, as this server is known to its clients: compared with <c>htu</c> after
    /// RFC 3986 §6.2.2–6.2.3 normalisation (scheme and host case, default port, percent-encoding, dot segments) and
    /// ignoring query and fragment (RFC 9449 §4.3 step 9). Behind a proxy, build it from the public scheme and host.
    /// </summary>
    public required Uri RequestUri { get; init; }

    /// <summary>
    /// The access token the request carries, at a protected resource: the proof must then have
    /// <c>ath</c> = base64url(SHA-256(token)) (RFC 9449 §4.3 step 12). Null at the token endpoint.
    /// </summary>
    public string? AccessToken { get; init; }

    /// <summary>The token's <c>cnf.jkt</c>: the proof must be signed by that key (RFC 9449 §4.3 step 12, §6.1).</summary>
    public string? ExpectedThumbprint { get; init; }

    /// <summary>
    /// When set, the proof must carry a <c>nonce</c> this validator accepts; a missing or refused nonce gives
    /// <c>use_dpop_nonce</c> (RFC 9449 §8, §9), and the caller answers with a fresh one in <c>DPoP-Nonce</c>.
    /// </summary>
    public IDPoPNonceValidator? NonceValidator { get; init; }
}
