using Castellan.Stores;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// What every <see cref="IPersistedGrantStore"/> does, run against the in-memory store, SQLite and PostgreSQL
/// alike: the in-memory store is the reference a database store must match.
/// </summary>
public abstract class GrantStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    protected IPersistedGrantStore Store { get; private set; } = null!;

    protected abstract Task<IPersistedGrantStore> CreateStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public Task DisposeAsync() => DisposeStoreAsync();

    private static PersistedGrant Grant(string key, string? family = null, string? subject = "alice", string? session = null, string client = "web",
        string type = PersistedGrantTypes.RefreshToken, DateTimeOffset? expiration = null) => new()
    {
        Key = key,
        Type = type,
        ClientId = client,
        SubjectId = subject,
        SessionId = session,
        FamilyId = family,
        CreationTime = Now.AddMinutes(-1),
        Expiration = expiration ?? Now.AddHours(1),
        Data = """{"scopes":["openid","api1"],"n":"ü 🔑"}""",
    };

    private static string Key() => "k:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_stored_grant_reads_back_with_every_field()
    {
        var grant = Grant(Key(), family: "f1", session: "s1");
        await Store.StoreAsync(grant, default);

        var read = await Store.GetAsync(grant.Key, default);

        Assert.NotNull(read);
        Assert.Equal(grant.Key, read.Key);
        Assert.Equal(grant.Type, read.Type);
        Assert.Equal(grant.ClientId, read.ClientId);
        Assert.Equal(grant.SubjectId, read.SubjectId);
        Assert.Equal(grant.SessionId, read.SessionId);
        Assert.Equal(grant.FamilyId, read.FamilyId);
        Assert.Equal(grant.CreationTime, read.CreationTime);
        Assert.Equal(grant.Expiration, read.Expiration);
        Assert.Null(read.ConsumedTime);
        Assert.Equal(grant.Data, read.Data);
        Assert.Null(await Store.GetAsync(Key(), default));
    }

    [Fact]
    public async Task Storing_under_an_existing_key_replaces_the_grant()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key, type: PersistedGrantTypes.UserConsent), default);
        await Store.StoreAsync(Grant(key, type: PersistedGrantTypes.UserConsent) with { Data = "second" }, default);

        Assert.Equal("second", (await Store.GetAsync(key, default))!.Data);
    }

    [Fact]
    public async Task Remove_removes_once()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key), default);

        Assert.True(await Store.RemoveAsync(key, default));
        Assert.False(await Store.RemoveAsync(key, default));
        Assert.Null(await Store.GetAsync(key, default));
    }

    [Fact]
    public async Task A_grant_is_consumed_once_and_stays_readable_as_consumed()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key), default);

        var first = await Store.TryConsumeAsync(key, Now, default);
        var second = await Store.TryConsumeAsync(key, Now, default);

        Assert.NotNull(first);
        Assert.Equal(key, first.Key);
        Assert.Null(second);
        var stored = await Store.GetAsync(key, default);
        Assert.Equal(Now, stored!.ConsumedTime);
    }

    [Fact]
    public async Task An_expired_or_unknown_grant_is_not_consumed()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key, expiration: Now), default);

        Assert.Null(await Store.TryConsumeAsync(key, Now, default));
        Assert.Null(await Store.TryConsumeAsync(Key(), Now, default));
        Assert.Null((await Store.GetAsync(key, default))!.ConsumedTime);
    }

    [Fact]
    public async Task Fifty_parallel_consumptions_of_one_grant_have_exactly_one_winner()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key), default);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => Store.TryConsumeAsync(key, Now, default))));

        Assert.Equal(1, results.Count(r => r is not null));
    }

    [Fact]
    public async Task A_rotation_consumes_and_replaces_together_and_only_once()
    {
        var key = Key();
        await Store.StoreAsync(Grant(key, family: "f"), default);
        var replacements = Enumerable.Range(0, 50).Select(_ => Grant(Key(), family: "f")).ToArray();

        var results = await Task.WhenAll(replacements.Select(r => Task.Run(() => Store.TryConsumeAndReplaceAsync(key, r, Now, default))));

        Assert.Equal(1, results.Count(r => r is not null));
        var stored = await Task.WhenAll(replacements.Select(r => Store.GetAsync(r.Key, default)));
        Assert.Equal(1, stored.Count(s => s is not null));
        Assert.Equal(replacements[Array.FindIndex(results, r => r is not null)].Key, stored.Single(s => s is not null)!.Key);
    }

    [Fact]
    public async Task A_rotation_of_a_spent_or_expired_grant_stores_nothing()
    {
        var spent = Key();
        await Store.StoreAsync(Grant(spent), default);
        await Store.TryConsumeAsync(spent, Now, default);
        var expired = Key();
        await Store.StoreAsync(Grant(expired, expiration: Now.AddSeconds(-1)), default);
        var replacement = Grant(Key());

        Assert.Null(await Store.TryConsumeAndReplaceAsync(spent, replacement, Now, default));
        Assert.Null(await Store.TryConsumeAndReplaceAsync(expired, replacement, Now, default));
        Assert.Null(await Store.TryConsumeAndReplaceAsync(Key(), replacement, Now, default));
        Assert.Null(await Store.GetAsync(replacement.Key, default));
    }

    [Fact]
    public async Task RemoveAll_removes_exactly_what_the_filter_names()
    {
        var prefix = Guid.NewGuid().ToString("N");
        string F(string s) => prefix + s;
        var grants = new[]
        {
            Grant(Key(), family: F("f1"), subject: F("alice"), session: F("s1"), client: F("web")),
            Grant(Key(), family: F("f1"), subject: F("alice"), session: F("s1"), client: F("web"), type: PersistedGrantTypes.ReferenceToken),
            Grant(Key(), family: F("f2"), subject: F("alice"), session: F("s2"), client: F("spa")),
            Grant(Key(), family: F("f3"), subject: F("bob"), session: F("s3"), client: F("web")),
            Grant(Key(), family: null, subject: null, session: null, client: F("daemon"), type: PersistedGrantTypes.ReferenceToken),
        };
        foreach (var grant in grants)
        {
            await Store.StoreAsync(grant, default);
        }

        Assert.Equal(1, await Store.RemoveAllAsync(new PersistedGrantFilter { FamilyId = F("f1"), Type = PersistedGrantTypes.ReferenceToken }, default));
        Assert.Equal(1, await Store.RemoveAllAsync(new PersistedGrantFilter { FamilyId = F("f1") }, default));
        Assert.Equal(1, await Store.RemoveAllAsync(new PersistedGrantFilter { SessionId = F("s2") }, default));
        Assert.Equal(0, await Store.RemoveAllAsync(new PersistedGrantFilter { SubjectId = F("alice") }, default));
        Assert.Equal(1, await Store.RemoveAllAsync(new PersistedGrantFilter { SubjectId = F("bob"), ClientId = F("web") }, default));
        Assert.NotNull(await Store.GetAsync(grants[4].Key, default));
        Assert.Equal(1, await Store.RemoveAllAsync(new PersistedGrantFilter { ClientId = F("daemon") }, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.RemoveAllAsync(new PersistedGrantFilter { Type = PersistedGrantTypes.RefreshToken }, default));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.RemoveAllAsync(new PersistedGrantFilter(), default));
    }

    [Fact]
    public async Task Cleanup_removes_expired_grants_in_bounded_batches_and_keeps_live_ones()
    {
        var later = Now.AddYears(50);
        var expired = Enumerable.Range(0, 25).Select(_ => Grant(Key(), expiration: later.AddSeconds(-10))).ToArray();
        var live = Enumerable.Range(0, 5).Select(_ => Grant(Key(), expiration: later.AddYears(100))).ToArray();
        foreach (var grant in expired.Concat(live))
        {
            await Store.StoreAsync(grant, default);
        }

        var batches = new List<int>();
        int removed;
        do
        {
            removed = await Store.RemoveExpiredAsync(later, 10, default);
            batches.Add(removed);
        }
        while (removed == 10);

        Assert.Equal([10, 10, 5], batches);
        foreach (var grant in expired)
        {
            Assert.Null(await Store.GetAsync(grant.Key, default));
        }

        foreach (var grant in live)
        {
            Assert.NotNull(await Store.GetAsync(grant.Key, default));
        }
    }
}

public sealed class InMemoryGrantStoreContract : GrantStoreContract
{
    protected override Task<IPersistedGrantStore> CreateStoreAsync() => Task.FromResult<IPersistedGrantStore>(new InMemoryPersistedGrantStore(TimeProvider.System));
}

public sealed class SqliteGrantStoreContract : GrantStoreContract
{
    private StoreFactory? _factory;

    protected override async Task<IPersistedGrantStore> CreateStoreAsync()
    {
        _factory = await StoreFactory.SqliteAsync();
        return Assert.IsType<Castellan.Storage.EntityFramework.EntityFrameworkGrantStore>(_factory.Get<IPersistedGrantStore>());
    }

    protected override async Task DisposeStoreAsync() => await _factory!.DisposeAsync();
}

[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlGrantStoreContract(PostgresCluster cluster) : GrantStoreContract
{
    private StoreFactory? _factory;

    protected override async Task<IPersistedGrantStore> CreateStoreAsync()
    {
        _factory = await StoreFactory.PostgreSqlAsync(cluster);
        return Assert.IsType<Castellan.Storage.EntityFramework.EntityFrameworkGrantStore>(_factory.Get<IPersistedGrantStore>());
    }

    protected override async Task DisposeStoreAsync() => await _factory!.DisposeAsync();
}
