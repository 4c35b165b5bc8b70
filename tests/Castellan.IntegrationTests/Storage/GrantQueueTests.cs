using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// The grant store's group commit (<see cref="GrantQueue"/>) on both providers: writes arriving together are
/// committed together, and batching changes no outcome: one winner per key, a failing write fails alone and leaves
/// nothing of itself, the others of its batch are kept.
/// </summary>
public abstract class GrantQueueContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private StoreFactory? _factory;

    private protected abstract Task<StoreFactory> CreateFactoryAsync();

    private IPersistedGrantStore Store => _factory!.Get<IPersistedGrantStore>();

    public async Task InitializeAsync() => _factory = await CreateFactoryAsync();

    public async Task DisposeAsync() => await _factory!.DisposeAsync();

    private static PersistedGrant Grant(string key, string? family = null) => new()
    {
        Key = key,
        Type = PersistedGrantTypes.RefreshToken,
        ClientId = "web",
        SubjectId = "alice",
        FamilyId = family,
        SessionId = family is null ? null : "sid-" + family,
        CreationTime = Now,
        Expiration = Now.AddHours(1),
        Data = "{}",
    };

    [Fact]
    public async Task Concurrent_writes_share_transactions_and_every_one_is_stored()
    {
        using var batches = new BatchSizes();

        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => Store.StoreAsync(Grant($"many-{i}"), default))));

        for (var i = 0; i < 400; i++)
        {
            Assert.NotNull(await Store.GetAsync($"many-{i}", default));
        }

        // The metric is the process's: other tests' stores may add to it, never take from it.
        Assert.True(batches.Sizes.Sum() >= 400);
        Assert.Contains(batches.Sizes, size => size > 1);
    }

    [Fact]
    public async Task Of_concurrent_consumptions_and_rotations_of_one_key_exactly_one_wins()
    {
        await Store.StoreAsync(Grant("contested", family: "fc"), default);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => i % 2 == 0
            ? Store.TryConsumeAsync("contested", Now, default)
            : Store.TryConsumeAndReplaceAsync("contested", Grant($"successor-{i}", family: "fc"), Now, default))));

        Assert.Single(outcomes, o => o is not null);
        var successors = 0;
        for (var i = 1; i < 50; i += 2)
        {
            successors += await Store.GetAsync($"successor-{i}", default) is null ? 0 : 1;
        }

        // A rotation that lost inserted nothing; a consumption that won left no successor either.
        Assert.Equal(outcomes.Select((o, i) => o is not null && i % 2 == 1).Count(won => won), successors);
    }

    [Fact]
    public async Task A_failing_write_fails_alone_and_its_consumption_is_undone()
    {
        await Store.StoreAsync(Grant("taken"), default);
        for (var i = 0; i < 40; i++)
        {
            await Store.StoreAsync(Grant($"old-{i}", family: $"f{i}"), default);
        }

        // Rotation 7's replacement has the key of an existing grant: its insert fails in the database.
        var rotations = Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            Store.TryConsumeAndReplaceAsync($"old-{i}", Grant(i == 7 ? "taken" : $"new-{i}", family: $"f{i}"), Now, default))).ToArray();
        await Assert.ThrowsAnyAsync<Exception>(() => rotations[7]);

        for (var i = 0; i < 40; i++)
        {
            if (i == 7)
            {
                // Rolled back: the old token is still unconsumed and can be rotated again.
                Assert.Null((await Store.GetAsync("old-7", default))!.ConsumedTime);
                continue;
            }

            Assert.NotNull(await rotations[i]);
            Assert.NotNull((await Store.GetAsync($"old-{i}", default))!.ConsumedTime);
            Assert.NotNull(await Store.GetAsync($"new-{i}", default));
        }

        Assert.NotNull(await Store.TryConsumeAndReplaceAsync("old-7", Grant("new-7", family: "f7"), Now, default));
    }

    [Fact]
    public async Task A_stored_grant_with_an_existing_key_replaces_it()
    {
        await Store.StoreAsync(Grant("consent") with { Data = """{"v":1}""" }, default);
        await Store.StoreAsync(Grant("consent") with { Data = """{"v":2}""", SubjectId = "bob" }, default);

        var read = await Store.GetAsync("consent", default);

        Assert.Equal("""{"v":2}""", read!.Data);
        Assert.Equal("bob", read.SubjectId);
    }

    /// <summary>The batch sizes the store's metric reports while this is alive.</summary>
    private sealed class BatchSizes : IDisposable
    {
        private readonly MeterListener _listener = new();

        public BatchSizes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Castellan" && instrument.Name == "castellan.store.grant_batch")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, size, _, _) => Recorded.Add(size));
            _listener.Start();
        }

        private ConcurrentBag<int> Recorded { get; } = [];

        public IReadOnlyList<int> Sizes => [.. Recorded];

        public void Dispose() => _listener.Dispose();
    }
}

public sealed class SqliteGrantQueueTests : GrantQueueContract
{
    private protected override Task<StoreFactory> CreateFactoryAsync() => StoreFactory.SqliteAsync();
}

[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlGrantQueueTests(PostgresCluster cluster) : GrantQueueContract
{
    private protected override Task<StoreFactory> CreateFactoryAsync() => StoreFactory.PostgreSqlAsync(cluster);
}
