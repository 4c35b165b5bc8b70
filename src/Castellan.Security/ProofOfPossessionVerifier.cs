using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;

namespace Castellan.Security;

/// <summary>
/// Checks, at a protected resource, that the sender of an access token holds what the token is bound to: a DPoP
/// proof signed by the <c>cnf.jkt</c> key, over this request and this token (RFC 9449 §7.1), and the client
/// certificate named by <c>cnf.x5t#S256</c> on this connection (RFC 8705 §3). The API package and the token server's
/// userinfo endpoint both use it, so a bound token meets one rule wherever it is presented.
/// </summary>
/// <remarks>
/// The rule: a token bound to a DPoP key is accepted only with the <c>DPoP</c> scheme (§7.2); the <c>DPoP</c>
/// scheme carries only tokens bound to a DPoP key; a binding with members this code cannot check is refused.
/// It runs on every request: a cache of validated tokens vouches for a token's signature, never for its sender.
/// </remarks>
public sealed class ProofOfPossessionVerifier(DPoPProofValidator validator)
{
    /// <summary>The proof algorithms accepted, for the challenge's <c>algs</c> (RFC 9449 §7.1).</summary>
    public IReadOnlyList<string> SupportedAlgorithms => validator.SupportedAlgorithms;

    /// <param name="context">The request, for its <c>DPoP</c> header, method and client certificate.</param>
    /// <param name="accessToken">The token as sent, for the proof's <c>ath</c>.</param>
    /// <param name="dpopScheme">Whether it came as <c>Authorization: DPoP</c> (else <c>Bearer</c>).</param>
    /// <param name="binding">The token's <c>cnf</c>.</param>
    /// <param name="requestUri">This resource's URL as the client addressed it (the proof's <c>htu</c>).</param>
    /// <param name="nonces">When set, proofs need a nonce it accepts (RFC 9449 §9).</param>
    public async ValueTask<ProofOfPossessionResult> VerifyAsync(HttpContext context, string accessToken, bool dpopScheme,
        TokenBinding binding, Uri requestUri, IDPoPNonceValidator? nonces = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!dpopScheme && !binding.IsBound)
        {
            return ProofOfPossessionResult.Bearer;
        }

        if (binding.Unverifiable)
        {
            return ProofOfPossessionResult.Refused(dpopScheme, "The access token is bound to a key this server cannot check.",
                "the token's cnf has no member that can be checked");
        }

        if (binding.JwkThumbprint is { } jkt)
        {
            if (!dpopScheme)
            {
                return ProofOfPossessionResult.DPoPTokenAsBearer;
            }

            var proof = await validator.ValidateAsync(new DPoPProofValidationContext
            {
                ProofHeader = context.Request.Headers[DPoPConstants.HeaderName],
                Method = context.Request.Method,
                RequestUri = requestUri,
                AccessToken = accessToken,
                ExpectedThumbprint = jkt,
                NonceValidator = nonces,
            }, context.RequestAborted).ConfigureAwait(false);

            if (!proof.IsValid)
            {
                // A good proof by another key is a binding failure (invalid_token), not a bad proof (RFC 9449 §7.1).
                return proof.Failure == DPoPProofFailure.KeyMismatch
                    ? ProofOfPossessionResult.KeyBinding
                    : new ProofOfPossessionResult(proof.Error, proof.ErrorDescription, dpopScheme: true, "DPoP proof refused: " + proof.Failure, proof.Failure);
            }
        }
        else if (dpopScheme)
        {
            return ProofOfPossessionResult.NotDPoPBound;
        }

        if (binding.CertificateThumbprint is { } x5t)
        {
            // Kestrel's certificate from the TLS handshake, or the one ASP.NET Core's certificate forwarding
            // middleware took from a trusted proxy's header: both land on the connection.
            var certificate = context.Connection.ClientCertificate
                ?? await context.Connection.GetClientCertificateAsync(context.RequestAborted).ConfigureAwait(false);
            if (certificate is null || !CertificateThumbprint.Matches(certificate, x5t))
            {
                return ProofOfPossessionResult.Refused(dpopScheme, "The access token is bound to a client certificate this request did not present.",
                    certificate is null ? "a certificate-bound token came without a client certificate" : "a certificate-bound token came with another client certificate");
            }
        }

        return ProofOfPossessionResult.Proven;
    }
}

/// <summary>The outcome of <see cref="ProofOfPossessionVerifier.VerifyAsync"/>.</summary>
public sealed class ProofOfPossessionResult
{
    public const string InvalidToken = "invalid_token";

    internal static readonly ProofOfPossessionResult Bearer = new(null, null, dpopScheme: false, null);
    internal static readonly ProofOfPossessionResult Proven = new(null, null, dpopScheme: false, null) { IsSenderConstrained = true };

    internal static readonly ProofOfPossessionResult DPoPTokenAsBearer = new(InvalidToken,
        "The access token is bound to a DPoP key: send it with the DPoP scheme and a DPoP proof.", dpopScheme: false,
        "a DPoP-bound token was sent as Bearer");

    internal static readonly ProofOfPossessionResult NotDPoPBound = new(InvalidToken, "The access token is not bound to a DPoP key.",
        dpopScheme: true, "the DPoP scheme carried a token not bound to a DPoP key");

    internal static readonly ProofOfPossessionResult KeyBinding = new(InvalidToken, "Invalid DPoP key binding.", dpopScheme: true,
        "the DPoP proof was signed by a key other than the token's cnf.jkt", DPoPProofFailure.KeyMismatch);

    internal ProofOfPossessionResult(string? error, string? description, bool dpopScheme, string? logReason, DPoPProofFailure failure = DPoPProofFailure.None)
    {
        Error = error;
        ErrorDescription = description;
        DPoPScheme = dpopScheme;
        LogReason = logReason;
        Failure = failure;
    }

    internal static ProofOfPossessionResult Refused(bool dpopScheme, string description, string logReason)
        => new(InvalidToken, description, dpopScheme, logReason);

    /// <summary>True when the request may go on: a bearer token sent as Bearer, or a bound token whose binding was proven.</summary>
    [MemberNotNullWhen(false, nameof(Error), nameof(ErrorDescription), nameof(LogReason))]
    public bool IsValid => Error is null;

    /// <summary>True when the token is bound and the sender proved it holds the key or certificate.</summary>
    public bool IsSenderConstrained { get; private init; }

    /// <summary><c>invalid_token</c>, <c>invalid_dpop_proof</c> or <c>use_dpop_nonce</c>; null when valid.</summary>
    public string? Error { get; }

    /// <summary>A fixed text, safe to send to the client.</summary>
    public string? ErrorDescription { get; }

    /// <summary>Whether the error belongs under the <c>DPoP</c> challenge (else <c>Bearer</c>).</summary>
    public bool DPoPScheme { get; }

    /// <summary>What failed, for the log; never sent.</summary>
    public string? LogReason { get; }

    /// <summary>The DPoP check that failed, if a proof check did.</summary>
    public DPoPProofFailure Failure { get; }

    /// <summary>Whether the answer must carry a fresh <c>DPoP-Nonce</c> (RFC 9449 §9).</summary>
    public bool NeedsNonce => Error == DPoPConstants.UseDPoPNonce;
}
