namespace Castellan.Security;

/// <summary>Every failure result, allocated once: a hostile client makes these cheap to produce, so they cost nothing.</summary>
internal static class DPoPProofFailures
{
    public static readonly DPoPProofValidationResult MissingProof = Invalid(DPoPProofFailure.MissingProof, "The request has no DPoP proof.");
    public static readonly DPoPProofValidationResult MultipleProofs = Invalid(DPoPProofFailure.MultipleProofs, "The request has more than one DPoP header.");
    public static readonly DPoPProofValidationResult TooLong = Invalid(DPoPProofFailure.TooLong, "The DPoP proof is too long.");
    public static readonly DPoPProofValidationResult Malformed = Invalid(DPoPProofFailure.Malformed, "The DPoP proof is not a well-formed signed JWT.");
    public static readonly DPoPProofValidationResult InvalidType = Invalid(DPoPProofFailure.InvalidType, "The DPoP proof's typ must be dpop+jwt.");
    public static readonly DPoPProofValidationResult CriticalHeader = Invalid(DPoPProofFailure.UnsupportedCriticalHeader, "The DPoP proof has a crit header, which is not supported.");
    public static readonly DPoPProofValidationResult AlgorithmNotAllowed = Invalid(DPoPProofFailure.AlgorithmNotAllowed, "The DPoP proof's alg is not allowed.");
    public static readonly DPoPProofValidationResult MissingKey = Invalid(DPoPProofFailure.MissingKey, "The DPoP proof has no jwk header.");
    public static readonly DPoPProofValidationResult InvalidKey = Invalid(DPoPProofFailure.InvalidKey, "The DPoP proof's jwk is not a valid public key for its alg.");
    public static readonly DPoPProofValidationResult PrivateKey = Invalid(DPoPProofFailure.PrivateKey, "The DPoP proof's jwk must be a public key only.");
    public static readonly DPoPProofValidationResult InvalidJti = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's jti claim is missing or invalid.");
    public static readonly DPoPProofValidationResult InvalidHtm = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's htm claim is missing or invalid.");
    public static readonly DPoPProofValidationResult InvalidHtu = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's htu claim is missing or invalid.");
    public static readonly DPoPProofValidationResult InvalidIat = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's iat claim is missing or invalid.");
    public static readonly DPoPProofValidationResult InvalidAth = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's ath claim is invalid.");
    public static readonly DPoPProofValidationResult InvalidNonceClaim = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof's nonce claim is invalid.");
    public static readonly DPoPProofValidationResult DuplicateClaim = Invalid(DPoPProofFailure.InvalidClaim, "The DPoP proof repeats a claim.");
    public static readonly DPoPProofValidationResult MethodMismatch = Invalid(DPoPProofFailure.MethodMismatch, "The DPoP proof's htm does not match the request method.");
    public static readonly DPoPProofValidationResult UriMismatch = Invalid(DPoPProofFailure.UriMismatch, "The DPoP proof's htu does not match the request URI.");
    public static readonly DPoPProofValidationResult IssuedTooLongAgo = Invalid(DPoPProofFailure.IssuedTooLongAgo, "The DPoP proof is too old.");
    public static readonly DPoPProofValidationResult IssuedInTheFuture = Invalid(DPoPProofFailure.IssuedInTheFuture, "The DPoP proof's iat is in the future.");
    public static readonly DPoPProofValidationResult MissingAccessTokenHash = Invalid(DPoPProofFailure.MissingAccessTokenHash, "The DPoP proof has no ath claim for the access token.");
    public static readonly DPoPProofValidationResult AccessTokenHashMismatch = Invalid(DPoPProofFailure.AccessTokenHashMismatch, "The DPoP proof's ath does not match the access token.");
    public static readonly DPoPProofValidationResult KeyMismatch = Invalid(DPoPProofFailure.KeyMismatch, "The DPoP proof's key is not the key the access token is bound to.");
    public static readonly DPoPProofValidationResult InvalidSignature = Invalid(DPoPProofFailure.InvalidSignature, "The DPoP proof's signature is invalid.");
    public static readonly DPoPProofValidationResult Replayed = Invalid(DPoPProofFailure.Replayed, "The DPoP proof has been used before.");
    public static readonly DPoPProofValidationResult NonceRequired = DPoPProofValidationResult.NonceNeeded(DPoPProofFailure.NonceRequired, "The DPoP proof must carry a nonce from the DPoP-Nonce header.");
    public static readonly DPoPProofValidationResult InvalidNonce = DPoPProofValidationResult.NonceNeeded(DPoPProofFailure.InvalidNonce, "The DPoP proof's nonce is invalid or expired.");

    private static DPoPProofValidationResult Invalid(DPoPProofFailure failure, string description) => DPoPProofValidationResult.Invalid(failure, description);
}
