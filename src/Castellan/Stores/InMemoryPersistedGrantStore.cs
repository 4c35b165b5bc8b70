using System.Collections.Concurrent;

namespace Castellan.Stores;

/// <summary>
/// A process-local grant store for development and single-node deployments. Behaves like a durable store:
/// consumption and rotation are atomic, revocations are one operation, and expired grants are swept in bounded
/// batches so memory does not grow without bound.
/// </summary>
internal sealed class InMemoryPersistedGrantStore(TimeProvider time) : IPersistedGrantStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private const int SweepBatchSize = 10_000;

    private readonly ConcurrentDictionary<string, PersistedGrant> _grants = new(StringComparer.Ordinal);

    // Rotations and set removals exclude each other, as a database's transactions would: a family revoked while
    // one of its tokens rotates ends with the replacement removed, or with the rotation refused, never with a
    // surviving member. Single-grant operations (store, get, consume) stay lock-free.
    private readonly Lock _setGate = new();
    private long _nextSweepTicks;

    public Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken)
    {
        _grants[grant.Key] = grant;
        SweepIfDue();
        return Task.CompletedTask;
    }

    public Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken)
        => Task.FromResult(_grants.GetValueOrDefault(key));

    public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken)
        => Task.FromResult(_grants.TryRemove(key, out _));

    public Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
        => Task.FromResult(Consume(key, now));

    public Task<PersistedGrant?> TryConsumeAndReplaceAsync(string key, PersistedGrant replacement, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        lock (_setGate)
        {
            var consumed = Consume(key, now);
            if (consumed is not null)
            {
                _grants[replacement.Key] = replacement;
            }

            return Task.FromResult(consumed);
        }
    }

    public Task<int> RemoveAllAsync(PersistedGrantFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (!filter.IsScoped)
        {
            throw new ArgumentException("Name a family, subject, session or client to remove grants by.", nameof(filter));
        }

        var removed = 0;
        lock (_setGate)
        {
            foreach (var (key, grant) in _grants)
            {
                if (filter.Matches(grant) && _grants.TryRemove(key, out _))
                {
                    removed++;
                }
            }
        }

        return Task.FromResult(removed);
    }

    public Task<int> RemoveExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var removed = 0;
        foreach (var (key, grant) in _grants)
        {
            if (removed == batchSize)
            {
                break;
            }

            // Remove only the entry that was read, so a grant stored again under the key meanwhile stays.
            if (grant.Expiration <= now && _grants.TryRemove(KeyValuePair.Create(key, grant)))
            {
                removed++;
            }
        }

        return Task.FromResult(removed);
    }

    private PersistedGrant? Consume(string key, DateTimeOffset now)
    {
        while (_grants.TryGetValue(key, out var grant))
        {
            if (grant.ConsumedTime is not null || grant.Expiration <= now)
            {
                return null;
            }

            // Compare-and-swap: only the caller whose update wins gets the grant.
            if (_grants.TryUpdate(key, grant with { ConsumedTime = now }, grant))
            {
                return grant;
            }
        }

        return null;
    }

    private void SweepIfDue()
    {
        var now = time.GetUtcNow();
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, next) != next)
        {
            return;
        }

        // One bounded batch per interval on the storing thread; a backlog is worked off over the next sweeps.
        _ = RemoveExpiredAsync(now, SweepBatchSize, CancellationToken.None);
    }
}
