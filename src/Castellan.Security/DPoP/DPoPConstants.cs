namespace Castellan.Security;

/// <summary>The wire names of DPoP (RFC 9449).</summary>
public static class DPoPConstants
{
    /// <summary>The request header carrying the proof (§4.1).</summary>
    public const string HeaderName = "DPoP";

    /// <summary>The response header carrying a server nonce (§8).</summary>
    public const string NonceHeaderName = "DPoP-Nonce";

    /// <summary>The <c>token_type</c> of a DPoP-bound token and the <c>Authorization</c> scheme it is sent with (§5, §7.1).</summary>
    public const string TokenType = "DPoP";

    /// <summary>The <c>typ</c> header of every proof (§4.2).</summary>
    public const string ProofType = "dpop+jwt";

    /// <summary>The error for a missing or invalid proof, at the token endpoint and at a resource (§5, §7.1).</summary>
    public const string InvalidDPoPProof = "invalid_dpop_proof";

    /// <summary>The error asking the client to retry with the nonce from the <c>DPoP-Nonce</c> header (§8, §9).</summary>
    public const string UseDPoPNonce = "use_dpop_nonce";

    /// <summary>The authorization server metadata member listing the proof algorithms (§5.1).</summary>
    public const string SigningAlgorithmsSupported = "dpop_signing_alg_values_supported";
}
