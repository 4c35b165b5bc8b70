using Castellan.Security;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// The database replay cache (<c>ReplayEntries</c>) on SQLite and on a real PostgreSQL cluster: once-only, also when
/// many callers on two service providers (two nodes) race on one value; expired entries taken over and cleaned up;
/// only hashes stored.
/// </summary>
public abstract class ReplayCacheStoreContract : IAsyncLifetime
{
    private readonly List<StoreFactory> _factories = [];

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A node on a fresh database.</summary>
    private protected abstract Task<StoreFactory> CreateAsync(Action<IServiceCollection> configure);

    /// <summary>Another node on <paramref name="first"/>'s database.</summary>
    private protected abstract Task<StoreFactory> SecondNodeAsync(StoreFactory first, Action<IServiceCollection> configure);

    private void UseFakeTime(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);

    private async Task<StoreFactory> NodeAsync(StoreFactory? on = null)
    {
        var factory = on is null ? await CreateAsync(UseFakeTime) : await SecondNodeAsync(on, UseFakeTime);
        _factories.Add(factory);
        return factory;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var factory in _factories)
        {
            await factory.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_store_replaces_the_in_memory_cache_and_accepts_a_value_once()
    {
        var node = await NodeAsync();
        var cache = node.Get<IReplayCache>();
        Assert.IsType<EntityFrameworkReplayCache>(cache);
        var until = Time.GetUtcNow().AddSeconds(60);

        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "jkt.jti-1", until, default));
        Assert.False(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "jkt.jti-1", until, default));
        Assert.False(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "jkt.jti-1", until.AddHours(1), default));

        // The same string under another purpose is another entry; another string is new.
        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.ClientAssertion, "jkt.jti-1", until, default));
        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "jkt.jti-2", until, default));
    }

    [Fact]
    public async Task Only_the_hash_of_purpose_and_value_is_stored_with_the_expiry()
    {
        var node = await NodeAsync();
        var until = Time.GetUtcNow().AddSeconds(60);
        Assert.True(await node.Get<IReplayCache>().TryAddAsync(ReplayCachePurposes.ClientAssertion, "client-a assertion-jti", until, default));

        await using var db = node.Database.CreateContext();
        var row = Assert.Single(await db.ReplayEntries.AsNoTracking().ToListAsync());
        Assert.Equal(ReplayCacheKey.For(ReplayCachePurposes.ClientAssertion, "client-a assertion-jti"), row.Key);
        Assert.Equal(43, row.Key.Length);
        Assert.DoesNotContain("assertion-jti", row.Key, StringComparison.Ordinal);
        Assert.Equal(until.UtcDateTime, row.Expires, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_value_is_refused_until_its_expiry_has_passed_and_then_taken_over()
    {
        var node = await NodeAsync();
        var cache = node.Get<IReplayCache>();
        var until = Time.GetUtcNow().AddSeconds(60);
        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "v", until, default));

        // Live through its last moment.
        Time.Advance(TimeSpan.FromSeconds(60));
        Assert.False(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "v", Time.GetUtcNow().AddSeconds(60), default));

        // Past it, the row (not yet cleaned up) is taken over, and the new expiry holds.
        Time.Advance(TimeSpan.FromSeconds(1));
        var next = Time.GetUtcNow().AddSeconds(30);
        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "v", next, default));
        Assert.False(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "v", next, default));
        await using var db = node.Database.CreateContext();
        Assert.Equal(next.UtcDateTime, (await db.ReplayEntries.SingleAsync()).Expires, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_value_whose_expiry_has_passed_is_reported_new_and_not_recorded()
    {
        var node = await NodeAsync();
        Assert.True(await node.Get<IReplayCache>().TryAddAsync(ReplayCachePurposes.DPoPProof, "old", Time.GetUtcNow().AddSeconds(-1), default));
        await using var db = node.Database.CreateContext();
        Assert.Equal(0, await db.ReplayEntries.CountAsync());
    }

    [Fact]
    public async Task Of_many_callers_on_two_nodes_adding_one_value_at_once_exactly_one_wins_every_round()
    {
        var a = await NodeAsync();
        var b = await NodeAsync(a);
        var caches = new[] { a.Get<IReplayCache>(), b.Get<IReplayCache>() };
        var until = Time.GetUtcNow().AddSeconds(60);
        for (var round = 0; round < 20; round++)
        {
            var value = $"round-{round}";
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await caches[i % 2].TryAddAsync(ReplayCachePurposes.DPoPProof, value, until, default);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(racers);
            Assert.Equal(1, results.Count(r => r));
        }
    }

    [Fact]
    public async Task Cleanup_removes_expired_entries_in_batches_and_keeps_live_ones()
    {
        var node = await NodeAsync();
        var cache = node.Get<IReplayCache>();
        var now = Time.GetUtcNow();
        for (var i = 0; i < 7; i++)
        {
            Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "short-" + i, now.AddSeconds(10), default));
        }

        Assert.True(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "long", now.AddMinutes(10), default));
        Time.Advance(TimeSpan.FromSeconds(11));

        var removed = await GrantCleanup.Create(node.Services).RunOnceAsync(default);
        Assert.Equal(7, removed);
        await using var db = node.Database.CreateContext();
        Assert.Equal(ReplayCacheKey.For(ReplayCachePurposes.DPoPProof, "long"), (await db.ReplayEntries.SingleAsync()).Key);
        Assert.False(await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "long", now.AddMinutes(10), default));
    }
}

public sealed class SqliteReplayCacheStoreContract : ReplayCacheStoreContract
{
    // Small batches, so the cleanup test runs several.
    private protected override Task<StoreFactory> CreateAsync(Action<IServiceCollection> configure) => StoreFactory.SqliteAsync(configure, batch: 3);

    private protected override Task<StoreFactory> SecondNodeAsync(StoreFactory first, Action<IServiceCollection> configure)
        => StoreFactory.OnAsync(DatabaseProvider.Sqlite, first.ConnectionString, configure);
}

[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlReplayCacheStoreContract(PostgresCluster cluster) : ReplayCacheStoreContract
{
    private protected override Task<StoreFactory> CreateAsync(Action<IServiceCollection> configure) => StoreFactory.PostgreSqlAsync(cluster, configure, batch: 3);

    private protected override Task<StoreFactory> SecondNodeAsync(StoreFactory first, Action<IServiceCollection> configure)
        => StoreFactory.OnAsync(DatabaseProvider.PostgreSql, first.ConnectionString, configure);
}

public sealed class ReplayCacheStoreRegistrationTests
{
    [Fact]
    public async Task With_StoreReplayCache_off_the_in_memory_cache_stays()
    {
        await using var services = new ServiceCollection().AddCastellanEntityFrameworkForTest(store => store.StoreReplayCache = false);
        Assert.IsType<InMemoryReplayCache>(services.GetRequiredService<IReplayCache>());
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_fails_the_check_as_unavailable_never_as_accepted()
    {
        // Nothing listens on port 1.
        await using var services = new ServiceCollection().AddCastellanEntityFrameworkForTest(store =>
        {
            store.Provider = DatabaseProvider.PostgreSql;
            store.ConnectionString = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";
        });
        var cache = services.GetRequiredService<IReplayCache>();
        await Assert.ThrowsAsync<StoreUnavailableException>(async () =>
            await cache.TryAddAsync(ReplayCachePurposes.DPoPProof, "v", DateTimeOffset.UtcNow.AddMinutes(1), default));
    }
}

internal static class ReplayCacheTestServices
{
    public static ServiceProvider AddCastellanEntityFrameworkForTest(this IServiceCollection services, Action<EntityFrameworkStoreOptions> configure)
    {
        services.AddLogging();
        services.AddCastellan().AddEntityFrameworkStores(store =>
        {
            store.ConnectionString = "Data Source=:memory:";
            store.EnableCleanup = false;
            configure(store);
        });
        return services.BuildServiceProvider();
    }
}
