using System.Collections.Concurrent;

namespace Castellan.Stores;

/// <summary>
/// A process-local grant store for development and single-node deployments. Behaves like a durable store:
/// consumption is atomic, and expired grants are swept so memory does not grow without bound.
/// </summary>
internal sealed class InMemoryPersistedGrantStore(TimeProvider time) : IPersistedGrantStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, PersistedGrant> _grants = new(StringComparer.Ordinal);
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
    {
        while (_grants.TryGetValue(key, out var grant))
        {
            if (grant.ConsumedTime is not null)
            {
                return Task.FromResult<PersistedGrant?>(null);
            }

            // Compare-and-swap: only the caller whose update wins gets the grant.
            if (_grants.TryUpdate(key, grant with { ConsumedTime = now }, grant))
            {
                return Task.FromResult<PersistedGrant?>(grant);
            }
        }

        return Task.FromResult<PersistedGrant?>(null);
    }

    private void SweepIfDue()
    {
        var now = time.GetUtcNow();
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, next) != next)
        {
            return;
        }

        foreach (var (key, grant) in _grants)
        {
            if (grant.Expiration <= now)
            {
                _grants.TryRemove(key, out _);
            }
        }
    }
}
