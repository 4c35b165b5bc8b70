namespace Castellan.Stores;

/// <summary>
/// Operational state: reference tokens now; authorization codes, refresh tokens and device codes later. Keys are
/// hashes of the handles given to clients, never the handles themselves.
/// </summary>
public interface IPersistedGrantStore
{
    Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken);

    /// <returns>The grant, or null when unknown. Expired grants may still be returned; callers check.</returns>
    Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken);

    /// <returns>Whether this call removed the grant (false if it was already gone).</returns>
    Task<bool> RemoveAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically marks a one-time grant as consumed. Returns the grant only to the single caller that consumed
    /// it; every other caller, concurrent or later, gets null.
    /// </summary>
    Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);
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

    public required DateTimeOffset CreationTime { get; init; }

    public required DateTimeOffset Expiration { get; init; }

    public DateTimeOffset? ConsumedTime { get; init; }

    /// <summary>The grant's content; for reference tokens the RFC 9068 claim set as JSON.</summary>
    public required string Data { get; init; }
}

public static class PersistedGrantTypes
{
    public const string ReferenceToken = "reference_token";
}
