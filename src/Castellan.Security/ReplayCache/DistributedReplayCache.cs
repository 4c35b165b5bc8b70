using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;

namespace Castellan.Security;

/// <summary>
/// An <see cref="IReplayCache"/> over <see cref="IDistributedCache"/> (Redis, SQL Server, a database table), so that
/// every node of a cluster sees the values any node accepted: a proof replayed to another node is refused.
/// </summary>
/// <remarks>
/// <para><b>Not strictly once-only.</b> <see cref="IDistributedCache"/> has no atomic add-if-absent, so this reads the
/// key and then writes it. Two requests carrying the same value that reach two nodes (or two threads) at the same
/// moment can both read "absent" before either write lands, and both are accepted. The window is the time between
/// one node's read and its write: one round trip to the cache, typically well under a millisecond to a few
/// milliseconds. It matters only to an attacker who holds a proof before the legitimate request is finished and can
/// race it, and it never extends a value's life. A store with an atomic insert (Redis <c>SET NX</c>, an
/// <c>INSERT</c> on a unique key) should implement <see cref="IReplayCache"/> directly to close it.</para>
/// <para>Keys are <see cref="ReplayCacheOptions.KeyPrefix"/> followed by the base64url SHA-256 of purpose and value,
/// so the cache holds no value as sent. Entries expire absolutely (never sliding), rounded up to whole seconds plus
/// one, so a node whose clock is a little behind another's still sees the entry. A failing cache throws: a value that
/// could not be checked is never accepted.</para>
/// </remarks>
public sealed class DistributedReplayCache : IReplayCache
{
    private static readonly byte[] Marker = [1];

    private readonly IDistributedCache _cache;
    private readonly string _keyPrefix;
    private readonly TimeProvider _timeProvider;

    public DistributedReplayCache(IDistributedCache cache, IOptions<ReplayCacheOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        OptionsGuard.ThrowIfInvalid(new ReplayCacheOptionsValidator(), options.Value);
        _cache = cache;
        _keyPrefix = options.Value.KeyPrefix;
        _timeProvider = timeProvider;
    }

    public async ValueTask<bool> TryAddAsync(string purpose, string value, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(value);
        var remaining = expiresAt - _timeProvider.GetUtcNow();
        if (remaining < TimeSpan.Zero)
        {
            return true;
        }

        var key = CacheKey(purpose, value);
        if (await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        // Relative to the store's own clock: the entry then lives as long on every node, whatever their clocks say.
        var lifetime = TimeSpan.FromSeconds(Math.Ceiling(remaining.TotalSeconds) + 1);
        await _cache.SetAsync(key, Marker, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = lifetime }, cancellationToken)
            .ConfigureAwait(false);
        return true;
    }

    internal string CacheKey(string purpose, string value) => string.Concat(_keyPrefix, ReplayCacheKey.For(purpose, value));
}
