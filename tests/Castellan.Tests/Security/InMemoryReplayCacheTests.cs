using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.Tests.Security;

public sealed class InMemoryReplayCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private InMemoryReplayCache Cache(int maxEntries = 1000)
        => new(Options.Create(new ReplayCacheOptions { MaxEntries = maxEntries }), _time);

    private static ValueTask<bool> Add(IReplayCache cache, string value, DateTimeOffset expiresAt, string purpose = ReplayCachePurposes.DPoPProof)
        => cache.TryAddAsync(purpose, value, expiresAt, CancellationToken.None);

    [Fact]
    public async Task Value_is_accepted_once_until_it_expires()
    {
        var cache = Cache();
        var expires = Start.AddSeconds(120);

        Assert.True(await Add(cache, "jti-1", expires));
        Assert.False(await Add(cache, "jti-1", expires));
        _time.Advance(TimeSpan.FromSeconds(120));
        Assert.False(await Add(cache, "jti-1", expires.AddSeconds(60)));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Add(cache, "jti-1", Start.AddSeconds(300)));
        Assert.False(await Add(cache, "jti-1", Start.AddSeconds(300)));
    }

    [Fact]
    public async Task Purposes_are_kept_apart()
    {
        var cache = Cache();
        Assert.True(await Add(cache, "same", Start.AddMinutes(1), ReplayCachePurposes.DPoPProof));
        Assert.True(await Add(cache, "same", Start.AddMinutes(1), ReplayCachePurposes.ClientAssertion));
        // The purpose's length is part of the key: ("ab", "c") is not ("a", "bc").
        Assert.True(await Add(cache, "c", Start.AddMinutes(1), "ab"));
        Assert.True(await Add(cache, "bc", Start.AddMinutes(1), "a"));
    }

    [Fact]
    public async Task Value_that_has_already_expired_is_not_recorded()
    {
        var cache = Cache();
        Assert.True(await Add(cache, "old", Start.AddSeconds(-1)));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Long_values_are_accepted_and_stored_as_fixed_size_keys()
    {
        var cache = Cache();
        var longValue = new string('v', 100_000);
        Assert.True(await Add(cache, longValue, Start.AddMinutes(1)));
        Assert.False(await Add(cache, longValue, Start.AddMinutes(1)));
        Assert.True(await Add(cache, longValue + "w", Start.AddMinutes(1)));
    }

    [Fact]
    public async Task Many_threads_adding_the_same_value_see_exactly_one_success()
    {
        var cache = Cache();
        for (var round = 0; round < 20; round++)
        {
            var value = $"jti-{round}";
            using var start = new Barrier(16);
            var tasks = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                start.SignalAndWait();
                return await Add(cache, value, Start.AddMinutes(1));
            })).ToArray();

            var results = await Task.WhenAll(tasks);
            Assert.Equal(1, results.Count(r => r));
        }
    }

    [Fact]
    public async Task Many_threads_taking_over_an_expired_value_see_exactly_one_success()
    {
        var cache = Cache();
        Assert.True(await Add(cache, "jti", Start.AddSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(11));

        using var start = new Barrier(16);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            start.SignalAndWait();
            return await Add(cache, "jti", Start.AddMinutes(1));
        })));

        Assert.Equal(1, results.Count(r => r));
    }

    [Fact]
    public async Task Full_cache_refuses_new_values_and_keeps_the_live_ones()
    {
        var cache = Cache(maxEntries: 3);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await Add(cache, $"v{i}", Start.AddMinutes(1)));
        }

        Assert.False(await Add(cache, "v3", Start.AddMinutes(1)));
        Assert.Equal(3, cache.Count);
        // Nothing was forgotten to make room: the first values are still replays.
        for (var i = 0; i < 3; i++)
        {
            Assert.False(await Add(cache, $"v{i}", Start.AddMinutes(1)));
        }
    }

    [Fact]
    public async Task Full_cache_makes_room_when_entries_expire()
    {
        var cache = Cache(maxEntries: 3);
        Assert.True(await Add(cache, "short", Start.AddSeconds(5)));
        Assert.True(await Add(cache, "long-1", Start.AddMinutes(5)));
        Assert.True(await Add(cache, "long-2", Start.AddMinutes(5)));
        Assert.False(await Add(cache, "new", Start.AddMinutes(5)));

        _time.Advance(TimeSpan.FromSeconds(6));

        // The refused value was never recorded, so it is new now.
        Assert.True(await Add(cache, "new", Start.AddMinutes(5)));
        Assert.Equal(3, cache.Count);
        Assert.False(await Add(cache, "long-1", Start.AddMinutes(5)));
    }

    [Fact]
    public async Task Count_never_exceeds_the_capacity_under_concurrency()
    {
        var cache = Cache(maxEntries: 100);
        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Task.Run(() => Add(cache, $"v{i}", Start.AddMinutes(1)).AsTask())));

        Assert.Equal(100, results.Count(r => r));
        Assert.Equal(100, cache.Count);
    }

    [Fact]
    public async Task Expired_entries_are_swept()
    {
        var cache = Cache();
        for (var i = 0; i < 50; i++)
        {
            Assert.True(await Add(cache, $"v{i}", Start.AddSeconds(10)));
        }

        Assert.Equal(50, cache.Count);
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.True(await Add(cache, "trigger", Start.AddMinutes(5)));

        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Options_without_room_fail_at_startup()
        => Assert.Throws<OptionsValidationException>(() => Cache(maxEntries: 0));
}
