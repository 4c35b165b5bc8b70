using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Castellan.Security;

/// <summary>
/// An <see cref="IReplayCache"/> in this process's memory: exact (check and add are one atomic step, so of many
/// concurrent callers adding one value exactly one wins) but per node. A cluster needs a shared cache.
/// </summary>
/// <remarks>
/// Bounded by <see cref="ReplayCacheOptions.MaxEntries"/>. When full of live values, new values are refused rather
/// than live ones evicted: a refusal fails one request, an eviction would let a proof be replayed. Expired entries
/// are removed by a sweep that runs on an adding thread at most every 30 seconds, and at once when the cache is full
/// and some entry has expired; the cache knows the earliest expiry it holds, so a full cache of live values refuses
/// without scanning. Keys are SHA-256 hashes of purpose and value (32 bytes, whatever the value's length).
/// </remarks>
public sealed class InMemoryReplayCache : IReplayCache
{
    private static readonly long SweepInterval = TimeSpan.FromSeconds(30).Ticks;
    private static readonly long FullWarningInterval = TimeSpan.FromMinutes(1).Ticks;

    // Value: the expiry in UTC ticks; an entry is live while now <= expiry.
    private readonly ConcurrentDictionary<ReplayKey, long> _entries = new();
    private readonly int _capacity;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _sweepLock = new();

    // Reserved slots: incremented before an insert, so the count never exceeds the capacity, even under races.
    private int _count;

    // No entry expires before this (UTC ticks). Lowered by every insert; recomputed by every sweep.
    private long _earliestExpiry = long.MaxValue;
    private long _nextSweep;
    private long _nextFullWarning;

    public InMemoryReplayCache(IOptions<ReplayCacheOptions> options, TimeProvider timeProvider, ILogger<InMemoryReplayCache>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var value = options.Value;
        OptionsGuard.ThrowIfInvalid(new ReplayCacheOptionsValidator(), value);
        _capacity = value.MaxEntries;
        _timeProvider = timeProvider;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Values held now, expired ones not yet swept included; never more than the capacity.</summary>
    public int Count => Volatile.Read(ref _count);

    public ValueTask<bool> TryAddAsync(string purpose, string value, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(value);
        return new ValueTask<bool>(TryAdd(ReplayKey.Compute(purpose, value), expiresAt.UtcTicks));
    }

    private bool TryAdd(ReplayKey key, long expires)
    {
        var now = _timeProvider.GetUtcNow().UtcTicks;
        if (expires < now)
        {
            return true;
        }

        if (now >= Volatile.Read(ref _nextSweep))
        {
            SweepIfDue(now);
        }

        while (true)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                if (existing >= now)
                {
                    return false;
                }

                // Expired but not yet swept: take the entry over. Fails if a sweep removed it or another caller took
                // it over first; the loop then sees the current state.
                if (_entries.TryUpdate(key, expires, existing))
                {
                    LowerEarliestExpiry(expires);
                    return true;
                }

                continue;
            }

            if (!TryReserveSlot(now))
            {
                WarnFull(now);
                return false;
            }

            if (_entries.TryAdd(key, expires))
            {
                // After the insert, so a sweep that resets the earliest expiry either sees this entry or this update.
                LowerEarliestExpiry(expires);
                return true;
            }

            Interlocked.Decrement(ref _count);
        }
    }

    private bool TryReserveSlot(long now)
    {
        if (Interlocked.Increment(ref _count) <= _capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        lock (_sweepLock)
        {
            // Under the lock no sweep is halfway, so the earliest expiry is exact: below it a sweep frees nothing.
            if (now < Volatile.Read(ref _earliestExpiry))
            {
                return false;
            }

            Sweep(now);
        }

        if (Interlocked.Increment(ref _count) <= _capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    private void SweepIfDue(long now)
    {
        // Housekeeping only: skip when another thread is sweeping.
        if (!_sweepLock.TryEnter())
        {
            return;
        }

        try
        {
            if (now >= _nextSweep && now >= Volatile.Read(ref _earliestExpiry))
            {
                Sweep(now);
            }

            Volatile.Write(ref _nextSweep, now + SweepInterval);
        }
        finally
        {
            _sweepLock.Exit();
        }
    }

    // Caller holds _sweepLock.
    private void Sweep(long now)
    {
        Volatile.Write(ref _earliestExpiry, long.MaxValue);
        foreach (var (key, expiry) in _entries)
        {
            if (expiry < now)
            {
                // Removes the entry only if it still holds this expiry: one taken over meanwhile stays.
                if (_entries.TryRemove(new KeyValuePair<ReplayKey, long>(key, expiry)))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
            else
            {
                LowerEarliestExpiry(expiry);
            }
        }
    }

    private void LowerEarliestExpiry(long expiry)
    {
        var current = Volatile.Read(ref _earliestExpiry);
        while (expiry < current)
        {
            var seen = Interlocked.CompareExchange(ref _earliestExpiry, expiry, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void WarnFull(long now)
    {
        var next = Volatile.Read(ref _nextFullWarning);
        if (now >= next && Interlocked.CompareExchange(ref _nextFullWarning, now + FullWarningInterval, next) == next)
        {
            SecurityLog.ReplayCacheFull(_logger, _capacity);
        }
    }
}
