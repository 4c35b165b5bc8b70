using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Castellan.Endpoints.Token;

/// <summary>
/// DPoP at the token endpoint (RFC 9449 §5): checks the request's proof with <see cref="DPoPProofValidator"/> and
/// yields the thumbprint of its key, which the issued tokens are bound to. Only requests that carry a <c>DPoP</c>
/// header, or come from a client with <see cref="Client.RequireDPoP"/>, reach it.
/// </summary>
internal sealed class TokenDPoPValidator(DPoPProofValidator validator, DPoPNonces nonces, IOptions<CastellanOptions> options)
{
    // RFC 9449 §5 names no error for a missing proof: invalid_dpop_proof is for a proof that is there and invalid.
    // A request lacking what this client must send is malformed (RFC 6749 §5.2 invalid_request).
    internal static readonly ProtocolError MissingProof = ProtocolError.InvalidRequest(
        "This client must send a DPoP proof (RFC 9449) with every token request.", "the client requires DPoP and sent no DPoP header");

    private static readonly ProtocolError UnusableIssuer = new(DPoPConstants.InvalidDPoPProof,
        "The DPoP proof cannot be checked against this request.", "the token endpoint URL built from the issuer is not an absolute URI");

    private readonly string _path = options.Value.Endpoints.Token;
    private readonly bool _requireNonce = options.Value.DPoP.RequireNonce;

    /// <summary>Whether proofs from <paramref name="client"/> must carry a server nonce.</summary>
    public bool RequiresNonce(Client client) => _requireNonce || client.RequireDPoPNonce;

    /// <param name="endpointBase">The issuer as resolved for this request, or the mutual TLS alias base for a request
    /// that arrived at the alias (<see cref="MutualTlsAliases.EndpointBaseFor"/>): the proof's <c>htu</c> is compared
    /// with the token endpoint URL under it (a URL clients are told in discovery), never with the raw Host header.</param>
    /// <param name="nonceResponse">When nonces are required: the response, which gets the current nonce in
    /// <c>DPoP-Nonce</c> whatever the outcome (RFC 9449 §8: with <c>use_dpop_nonce</c>, and on success so the
    /// client always holds the newest).</param>
    public async ValueTask<Outcome<string>> ValidateAsync(StringValues proof, string method, string endpointBase, CancellationToken cancellationToken,
        HttpResponse? nonceResponse = null)
    {
        if (nonceResponse is not null)
        {
            nonceResponse.Headers[DPoPConstants.NonceHeaderName] = nonces.GetCurrentNonce();
        }

        if (!Uri.TryCreate(IssuerResolver.Url(endpointBase, _path), UriKind.Absolute, out var endpoint))
        {
            return UnusableIssuer;
        }

        // No access token at the token endpoint, so no ath (RFC 9449 §4.3 step 12 applies at resources only).
        var result = await validator.ValidateAsync(new DPoPProofValidationContext
        {
            ProofHeader = proof,
            Method = method,
            RequestUri = endpoint,
            NonceValidator = nonceResponse is null ? null : nonces,
        }, cancellationToken).ConfigureAwait(false);

        return result.IsValid
            ? result.Thumbprint
            : new ProtocolError(result.Error, result.ErrorDescription, "DPoP proof refused: " + result.Failure);
    }
}
