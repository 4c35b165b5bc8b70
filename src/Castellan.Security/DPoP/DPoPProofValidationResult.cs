using System.Diagnostics.CodeAnalysis;

namespace Castellan.Security;

/// <summary>
/// The outcome of <see cref="DPoPProofValidator.ValidateAsync"/>: the proof's key thumbprint, or an error code with
/// a description safe to send to the client and a <see cref="Failure"/> for logs and metrics.
/// </summary>
public sealed class DPoPProofValidationResult
{
    private DPoPProofValidationResult(string thumbprint, string jwtId, DateTimeOffset issuedAt)
    {
        Thumbprint = thumbprint;
        JwtId = jwtId;
        IssuedAt = issuedAt;
    }

    private DPoPProofValidationResult(DPoPProofFailure failure, string error, string description)
    {
        Failure = failure;
        Error = error;
        ErrorDescription = description;
    }

    [MemberNotNullWhen(true, nameof(Thumbprint), nameof(JwtId))]
    [MemberNotNullWhen(false, nameof(Error), nameof(ErrorDescription))]
    public bool IsValid => Error is null;

    /// <summary>The RFC 7638 SHA-256 thumbprint of the proof's key: the <c>cnf.jkt</c> to bind a token to.</summary>
    public string? Thumbprint { get; }

    /// <summary>The proof's <c>jti</c>; safe to log (it is not a credential).</summary>
    public string? JwtId { get; }

    /// <summary>The proof's <c>iat</c>.</summary>
    public DateTimeOffset IssuedAt { get; }

    /// <summary><see cref="DPoPConstants.InvalidDPoPProof"/> or <see cref="DPoPConstants.UseDPoPNonce"/>.</summary>
    public string? Error { get; }

    /// <summary>Short, and safe to send to the client: it never repeats what the client sent.</summary>
    public string? ErrorDescription { get; }

    /// <summary>Which check failed; <see cref="DPoPProofFailure.None"/> on success.</summary>
    public DPoPProofFailure Failure { get; }

    internal static DPoPProofValidationResult Success(string thumbprint, string jwtId, DateTimeOffset issuedAt) => new(thumbprint, jwtId, issuedAt);

    // Failures are static instances, allocated once (see DPoPProofFailures).
    internal static DPoPProofValidationResult Invalid(DPoPProofFailure failure, string description)
        => new(failure, DPoPConstants.InvalidDPoPProof, description);

    internal static DPoPProofValidationResult NonceNeeded(DPoPProofFailure failure, string description)
        => new(failure, DPoPConstants.UseDPoPNonce, description);
}

/// <summary>The check a DPoP proof failed, for logs, metrics and tests; clients see only the error code and description.</summary>
public enum DPoPProofFailure
{
    None = 0,
    MissingProof,
    MultipleProofs,
    TooLong,
    Malformed,
    InvalidType,
    UnsupportedCriticalHeader,
    AlgorithmNotAllowed,
    MissingKey,
    InvalidKey,
    PrivateKey,
    InvalidClaim,
    MethodMismatch,
    UriMismatch,
    IssuedTooLongAgo,
    IssuedInTheFuture,
    MissingAccessTokenHash,
    AccessTokenHashMismatch,
    KeyMismatch,
    InvalidSignature,
    NonceRequired,
    InvalidNonce,
    Replayed,
}
