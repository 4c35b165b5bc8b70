using System.Security.Claims;
using Castellan.ApiProtection;

namespace Castellan.Tests.ApiProtection;

public sealed class ValidatedJwtCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    private static ClaimsIdentity Identity() => new([new Claim("client_id", "c"), new Claim("scope", "api1")], "test");

    [Fact]
    public void Hit_returns_a_copy_that_callers_may_change_without_touching_the_cache()
    {
        var cache = new ValidatedJwtCache(10);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, Identity(), Now.AddMinutes(-1), Now.AddMinutes(59));

        var first = cache.TryGet(key, Now, Skew)!;
        first.AddClaim(new Claim("tenant", "injected"));
        var second = cache.TryGet(key, Now, Skew)!;

        Assert.NotSame(first, second);
        Assert.Null(second.FindFirst("tenant"));
        Assert.Equal("c", second.FindFirst("client_id")!.Value);
    }

    [Fact]
    public void Lifetime_is_checked_on_every_hit_with_the_clock_skew()
    {
        var cache = new ValidatedJwtCache(10);
        var key = ValidatedJwtCache.Hash("a.b.c");
        var expires = Now.AddMinutes(10);
        cache.Add(key, Identity(), DateTimeOffset.MinValue, expires);

        Assert.NotNull(cache.TryGet(key, expires + Skew, Skew));
        Assert.Null(cache.TryGet(key, expires + Skew + TimeSpan.FromSeconds(1), Skew));
        // The expired entry is gone, even for an earlier clock.
        Assert.Null(cache.TryGet(key, Now, Skew));
    }

    [Fact]
    public void Not_yet_valid_tokens_are_not_served_from_the_cache()
    {
        var cache = new ValidatedJwtCache(10);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, Identity(), Now.AddMinutes(5), Now.AddMinutes(65));
        Assert.Null(cache.TryGet(key, Now, Skew));
    }

    [Fact]
    public void Different_tokens_have_different_keys_and_the_cache_stays_bounded()
    {
        Assert.NotEqual(ValidatedJwtCache.Hash("a.b.c"), ValidatedJwtCache.Hash("a.b.d"));
        Assert.Equal(ValidatedJwtCache.Hash(new string('x', 10_000)), ValidatedJwtCache.Hash(new string('x', 10_000)));

        var cache = new ValidatedJwtCache(2);
        var keys = Enumerable.Range(0, 3).Select(i => ValidatedJwtCache.Hash($"t{i}")).ToArray();
        foreach (var key in keys)
        {
            cache.Add(key, Identity(), DateTimeOffset.MinValue, Now.AddHours(1));
        }

        // Full at the third: the cache started over with the newest entry.
        Assert.Null(cache.TryGet(keys[0], Now, Skew));
        Assert.NotNull(cache.TryGet(keys[2], Now, Skew));
    }

    [Fact]
    public void Copies_keep_identity_model_case_sensitive_claim_lookups()
    {
        // JsonWebTokenHandler hands out CaseSensitiveClaimsIdentity; a cached request must see the same lookups as
        // the first one.
        var cache = new ValidatedJwtCache(10);
        var key = ValidatedJwtCache.Hash("a.b.c");
        cache.Add(key, new Microsoft.IdentityModel.Tokens.CaseSensitiveClaimsIdentity([new Claim("scope", "api1")], "test"),
            DateTimeOffset.MinValue, Now.AddHours(1));

        var copy = cache.TryGet(key, Now, Skew)!;
        Assert.IsType<Microsoft.IdentityModel.Tokens.CaseSensitiveClaimsIdentity>(copy);
        Assert.Null(copy.FindFirst("SCOPE"));
        Assert.Equal("api1", copy.FindFirst("scope")!.Value);
    }
}
