namespace Castellan.ApiProtection;

/// <summary>
/// Why the scheme refused a request's access token, carried from authentication to the challenge: the error code
/// and description of RFC 6750 §3.1 / RFC 9449 §7.1, and under which scheme (<c>Bearer</c> or <c>DPoP</c>) the
/// client should read it. Descriptions are fixed texts: what exactly failed is in the logs, not in the answer.
/// </summary>
internal sealed class AccessTokenFailure(bool dpop, string error, string description) : Exception(description)
{
    public const string InvalidToken = Castellan.Security.ProofOfPossessionResult.InvalidToken;

    public static readonly AccessTokenFailure NotValid = new(false, InvalidToken, "The access token is not valid.");
    public static readonly AccessTokenFailure NotValidDPoP = new(true, InvalidToken, "The access token is not valid.");
    public static readonly AccessTokenFailure Expired = new(false, InvalidToken, "The access token expired.");
    public static readonly AccessTokenFailure ExpiredDPoP = new(true, InvalidToken, "The access token expired.");
    public static readonly AccessTokenFailure Unvalidated = new(false, InvalidToken, "The access token could not be validated.");
    public static readonly AccessTokenFailure UnvalidatedDPoP = new(true, InvalidToken, "The access token could not be validated.");

    public bool DPoP { get; } = dpop;

    public string Error { get; } = error;

    public string Description { get; } = description;

    /// <summary>Whether the answer carries a fresh <c>DPoP-Nonce</c> (RFC 9449 §9, <c>use_dpop_nonce</c>).</summary>
    public bool NeedsNonce => Error == Castellan.Security.DPoPConstants.UseDPoPNonce;

    public static AccessTokenFailure Pick(bool dpop, AccessTokenFailure bearer, AccessTokenFailure dpopVariant) => dpop ? dpopVariant : bearer;
}
