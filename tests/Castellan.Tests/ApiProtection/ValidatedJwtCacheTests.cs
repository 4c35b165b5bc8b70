using System.Security.Claims;
using Castellan.ApiProtection;

namespace Castellan.Tests.ApiProtection;

public sealed class ValidatedJwtCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    private static ClaimsIdentity Identity() => new([new Claim("client_id", "c"), new Claim("scope", "api1")], "test");

    private static ValidatedJwtCache.TokenHash Key(int i) => ValidatedJwtCache.Hash($"token-{i}");

    private static void Add(ValidatedJwtCache cache, int i, DateTimeOffset? expires = null, DateTimeOffset? now = null)
        => cache.Add(Key(i), Identity(), DateTimeOffset.MinValue, expires ?? Now.AddHours(1), now ?? Now);

    [Fact]
    public void Hit_returns_a_copy_that_callers_may_change_without_touching_the_cache()
    {
        var cache = new ValidatedJwtCache(10, Skew);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, Identity(), Now.AddMinutes(-1), Now.AddMinutes(59), Now);

        var first = cache.TryGet(key, Now)!;
        first.AddClaim(new Claim("tenant", "injected"));
        var second = cache.TryGet(key, Now)!;

        Assert.NotSame(first, second);
        Assert.Null(second.FindFirst("tenant"));
        Assert.Equal("c", second.FindFirst("client_id")!.Value);
    }

    [Fact]
    public void Lifetime_is_checked_on_every_hit_with_the_clock_skew()
    {
        var cache = new ValidatedJwtCache(10, Skew);
        var key = ValidatedJwtCache.Hash("a.b.c");
        var expires = Now.AddMinutes(10);
        cache.Add(key, Identity(), DateTimeOffset.MinValue, expires, Now);

        Assert.NotNull(cache.TryGet(key, expires + Skew));
        Assert.Null(cache.TryGet(key, expires + Skew + TimeSpan.FromSeconds(1)));
        // The expired entry is gone, even for an earlier clock.
        Assert.Null(cache.TryGet(key, Now));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Not_yet_valid_tokens_are_not_served_from_the_cache()
    {
        var cache = new ValidatedJwtCache(10, Skew);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, Identity(), Now.AddMinutes(5), Now.AddMinutes(65), Now);
        Assert.Null(cache.TryGet(key, Now));
    }

    [Fact]
    public void Different_tokens_have_different_keys()
    {
        Assert.NotEqual(ValidatedJwtCache.Hash("a.b.c"), ValidatedJwtCache.Hash("a.b.d"));
        Assert.Equal(ValidatedJwtCache.Hash(new string('x', 10_000)), ValidatedJwtCache.Hash(new string('x', 10_000)));
    }

    [Fact]
    public void Adding_the_same_token_twice_keeps_one_entry()
    {
        var cache = new ValidatedJwtCache(10, Skew);
        Add(cache, 1);
        Add(cache, 1);
        Assert.Equal(1, cache.Count);
        Assert.NotNull(cache.TryGet(Key(1), Now));
    }

    [Fact]
    public void Filling_past_capacity_evicts_some_entries_and_never_clears_the_cache()
    {
        const int capacity = 64;
        var cache = new ValidatedJwtCache(capacity, Skew);
        for (var i = 0; i < capacity; i++)
        {
            Add(cache, i);
        }

        Assert.Equal(capacity, cache.Count);
        Add(cache, capacity);

        // One eviction batch (a sixteenth of the capacity) made room; everything else is still there.
        Assert.InRange(cache.Count, capacity - (capacity / 16) + 1, capacity);
        Assert.NotNull(cache.TryGet(Key(capacity), Now));
        var kept = Enumerable.Range(0, capacity).Count(i => cache.TryGet(Key(i), Now) is not null);
        Assert.Equal(capacity - (capacity / 16), kept);
    }

    [Fact]
    public void Recently_used_entries_survive_a_stream_of_new_tokens()
    {
        const int capacity = 64;
        var cache = new ValidatedJwtCache(capacity, Skew);
        var hot = Enumerable.Range(0, 8).ToArray();
        foreach (var i in hot)
        {
            Add(cache, i);
        }

        // Ten times the capacity in one-off tokens, while the hot tokens keep being used.
        for (var i = 100; i < 100 + (10 * capacity); i++)
        {
            Add(cache, i);
            foreach (var h in hot)
            {
                Assert.True(cache.TryGet(Key(h), Now) is not null, $"hot token {h} was evicted after token {i}");
            }

            Assert.InRange(cache.Count, 1, capacity);
        }
    }

    [Fact]
    public void Without_hits_the_oldest_entries_go_first()
    {
        // Nothing was hit, so the clock hand starts at the oldest slot and takes entries in insertion order.
        var cache = new ValidatedJwtCache(16, Skew);
        for (var i = 0; i < 16; i++)
        {
            Add(cache, i);
        }

        Add(cache, 16);
        Add(cache, 17);

        Assert.Null(cache.TryGet(Key(0), Now));
        Assert.Null(cache.TryGet(Key(1), Now));
        Assert.All(Enumerable.Range(2, 16), i => Assert.NotNull(cache.TryGet(Key(i), Now)));
    }

    [Fact]
    public void Expired_entries_go_before_unexpired_ones_even_unused()
    {
        var cache = new ValidatedJwtCache(16, Skew);
        for (var i = 0; i < 16; i++)
        {
            // Entries 5 and 11 expire in a minute, the rest in an hour; none is ever hit.
            Add(cache, i, i is 5 or 11 ? Now.AddMinutes(1) : Now.AddHours(1));
        }

        var later = Now.AddMinutes(2);
        Add(cache, 16, Now.AddHours(2), later);

        Assert.Equal(15, cache.Count);
        Assert.Null(cache.TryGet(Key(5), later));
        Assert.Null(cache.TryGet(Key(11), later));
        Assert.All(Enumerable.Range(0, 17).Where(i => i is not (5 or 11)), i => Assert.NotNull(cache.TryGet(Key(i), later)));
    }

    [Fact]
    public void Entries_within_the_clock_skew_of_expiry_are_not_treated_as_expired()
    {
        var cache = new ValidatedJwtCache(2, Skew);
        Add(cache, 0, Now);
        cache.TryGet(Key(0), Now);
        Add(cache, 1);
        // Entry 0 expired 10 s ago, within the skew, and was used: the unused entry 1 goes instead.
        Add(cache, 2, now: Now.AddSeconds(10));
        Assert.NotNull(cache.TryGet(Key(0), Now.AddSeconds(10)));
        Assert.Null(cache.TryGet(Key(1), Now.AddSeconds(10)));
    }

    [Fact]
    public async Task Concurrent_adds_and_hits_keep_the_count_bounded_and_the_entries_consistent()
    {
        // A smoke test for thread safety: it cannot prove the absence of a race, but a broken lock or slot
        // bookkeeping shows up as a count past the capacity, a lost slot, or an exception.
        const int capacity = 128;
        var cache = new ValidatedJwtCache(capacity, Skew);
        var keys = Enumerable.Range(0, 1_000).Select(Key).ToArray();
        var identity = Identity();
        var maxSeen = 0;

        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            var random = new Random(worker);
            for (var n = 0; n < 20_000; n++)
            {
                var key = keys[random.Next(keys.Length)];
                // A few expire now and then, so the expired-entry path and removal-on-hit run too.
                var expires = random.Next(10) == 0 ? Now.AddSeconds(-60) : Now.AddHours(1);
                if (cache.TryGet(key, Now) is null)
                {
                    cache.Add(key, identity, DateTimeOffset.MinValue, expires, Now);
                }

                var count = cache.Count;
                Assert.InRange(count, 0, capacity);
                InterlockedMax(ref maxSeen, count);
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.InRange(maxSeen, 1, capacity);
        var live = keys.Count(k => cache.TryGet(k, Now) is not null);
        Assert.InRange(live, 0, cache.Count);

        // The bookkeeping still adds up: the cache can be filled to its capacity again, and no further.
        for (var i = 0; i < 2 * capacity; i++)
        {
            cache.Add(ValidatedJwtCache.Hash($"after-{i}"), identity, DateTimeOffset.MinValue, Now.AddHours(1), Now);
        }

        Assert.InRange(cache.Count, capacity - (capacity / 16), capacity);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [Fact]
    public void Copies_keep_identity_model_case_sensitive_claim_lookups()
    {
        // JsonWebTokenHandler hands out CaseSensitiveClaimsIdentity; a cached request must see the same lookups as
        // the first one.
        var cache = new ValidatedJwtCache(10, Skew);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, new Microsoft.IdentityModel.Tokens.CaseSensitiveClaimsIdentity([new Claim("scope", "api1")], "test"),
            DateTimeOffset.MinValue, Now.AddHours(1), Now);

        var copy = cache.TryGet(key, Now)!;
        Assert.IsType<Microsoft.IdentityModel.Tokens.CaseSensitiveClaimsIdentity>(copy);
        Assert.Null(copy.FindFirst("SCOPE"));
        Assert.Equal("api1", copy.FindFirst("scope")!.Value);
    }
}
