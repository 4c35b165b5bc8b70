namespace Castellan.Stores;

/// <summary>
/// Operational state: reference tokens now; authorization codes, refresh tokens and device codes as the grants
/// that issue them arrive. Keys are hashes of the handles given to clients, never the handles themselves.
/// </summary>
/// <remarks>
/// Every implementation behaves like the in-memory one: one-time grants are consumed atomically (one caller wins,
/// however many race), a rotation consumes and replaces in one step, and revocations by family, subject, session
/// or client are one set-based operation each. A database store does each of these with one conditional
/// statement (or one transaction), never read-then-write, so several nodes can share it.
/// </remarks>
public interface IPersistedGrantStore
{
    Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken);

    /// <returns>The grant, or null when unknown. Expired and consumed grants are still returned; callers check.</returns>
    Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken);

    /// <returns>Whether this call removed the grant (false if it was already gone).</returns>
    Task<bool> RemoveAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically marks a one-time grant as consumed. Returns the grant only to the single caller that consumed
    /// it; every other caller, concurrent or later, gets null, and so does everyone for an expired grant (which
    /// stays unconsumed). The consumed grant stays stored (with its
    /// <see cref="PersistedGrant.ConsumedTime"/>) until it expires, so a second presentation can be recognised as
    /// a replay rather than an unknown handle.
    /// </summary>
    Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Rotation in one atomic step: consumes <paramref name="key"/> and stores <paramref name="replacement"/>, or
    /// does neither. Only the single caller that consumed the grant gets it back (and only its replacement is
    /// stored); every other caller gets null and stores nothing.
    /// </summary>
    Task<PersistedGrant?> TryConsumeAndReplaceAsync(string key, PersistedGrant replacement, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Removes every grant that matches all the criteria set in <paramref name="filter"/> (a family after a
    /// replayed code or refresh token, a subject, a session at logout, a client), as one operation.
    /// </summary>
    /// <returns>How many grants were removed.</returns>
    /// <exception cref="ArgumentException">The filter names none of family, subject, session or client.</exception>
    Task<int> RemoveAllAsync(PersistedGrantFilter filter, CancellationToken cancellationToken);

    /// <summary>
    /// Removes at most <paramref name="batchSize"/> grants that expired at or before <paramref name="now"/>, so
    /// cleanup never runs one unbounded delete. Call again while it returns <paramref name="batchSize"/>.
    /// </summary>
    /// <returns>How many grants were removed.</returns>
    Task<int> RemoveExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken cancellationToken);
}

/// <summary>One stored grant.</summary>
public sealed record PersistedGrant
{
    /// <summary>Base64url SHA-256 of the handle, prefixed with the grant type.</summary>
    public required string Key { get; init; }

    /// <summary>e.g. <see cref="PersistedGrantTypes.ReferenceToken"/>.</summary>
    public required string Type { get; init; }

    public required string ClientId { get; init; }

    public string? SubjectId { get; init; }

    public string? SessionId { get; init; }

    /// <summary>
    /// Groups the grants that come from one authorization: its code, the refresh tokens rotated from it and the
    /// reference tokens issued with them. A replayed code or refresh token revokes the whole family
    /// (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Null for grants that belong to no family (client credentials).
    /// </summary>
    public string? FamilyId { get; init; }

    public required DateTimeOffset CreationTime { get; init; }

    public required DateTimeOffset Expiration { get; init; }

    public DateTimeOffset? ConsumedTime { get; init; }

    /// <summary>The grant's content; for reference tokens the RFC 9068 claim set as JSON.</summary>
    public required string Data { get; init; }
}

/// <summary>Which grants <see cref="IPersistedGrantStore.RemoveAllAsync"/> removes: those matching every criterion that is set.</summary>
public sealed record PersistedGrantFilter
{
    public string? FamilyId { get; init; }

    public string? SubjectId { get; init; }

    public string? SessionId { get; init; }

    public string? ClientId { get; init; }

    /// <summary>Narrows any of the above to one grant type.</summary>
    public string? Type { get; init; }

    /// <summary>Whether the filter names at least one of family, subject, session or client: a filter of only a type (or nothing) would remove too much.</summary>
    public bool IsScoped => FamilyId is not null || SubjectId is not null || SessionId is not null || ClientId is not null;

    public bool Matches(PersistedGrant grant)
        => (FamilyId is null || string.Equals(grant.FamilyId, FamilyId, StringComparison.Ordinal))
           && (SubjectId is null || string.Equals(grant.SubjectId, SubjectId, StringComparison.Ordinal))
           && (SessionId is null || string.Equals(grant.SessionId, SessionId, StringComparison.Ordinal))
           && (ClientId is null || string.Equals(grant.ClientId, ClientId, StringComparison.Ordinal))
           && (Type is null || string.Equals(grant.Type, Type, StringComparison.Ordinal));
}

public static class PersistedGrantTypes
{
    public const string ReferenceToken = "reference_token";

    public const string AuthorizationCode = "authorization_code";

    public const string RefreshToken = "refresh_token";

    /// <summary>A consent the user asked to remember, per subject and client.</summary>
    public const string UserConsent = "user_consent";
}
