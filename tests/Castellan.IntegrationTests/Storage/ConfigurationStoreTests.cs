using Castellan.Storage.EntityFramework;
using Castellan.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// Configuration from the database: written with a version increment, read whole, cached, validated with the
/// in-code configuration once per change; a change that does not validate is refused and the last good one stays.
/// </summary>
public sealed class ConfigurationStoreTests
{
    private static Client M2m(string id, params string[] scopes) => new()
    {
        ClientId = id,
        ClientSecrets = { Secret.FromPlainText("a-long-enough-client-secret") },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = scopes.ToList(),
    };

    private static Task<StoreFactory> FactoryAsync(CountingSource? counter = null) => StoreFactory.SqliteAsync(services =>
    {
        services.Configure<CastellanOptions>(o => o.ConfigurationCacheLifetime = TimeSpan.Zero);
        if (counter is not null)
        {
            services.Replace(ServiceDescriptor.Singleton<IConfigurationSnapshotSource>(sp => counter.Wrap(sp.GetRequiredService<EntityFrameworkConfigurationStore>())));
        }
    });

    [Fact]
    public async Task Every_write_moves_the_version_and_a_read_returns_what_was_written_with_its_json_types()
    {
        await using var factory = await FactoryAsync();
        var store = factory.Get<EntityFrameworkConfigurationStore>();
        var before = await store.GetVersionAsync(default);

        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        var client = M2m("c1", "api1");
        client.AccessTokenType = AccessTokenType.Reference;
        client.Claims.Add(new ClientClaim("level", "3", "http://www.w3.org/2001/XMLSchema#integer"));
        await store.SaveClientAsync(client, default);
        await store.SaveClientAsync(client, default);
        Assert.Equal(before + 3, await store.GetVersionAsync(default));
        Assert.False(await store.RemoveClientAsync("nobody", default));
        Assert.Equal(before + 3, await store.GetVersionAsync(default));

        var snapshot = await store.LoadAsync(default);
        var read = Assert.Single(snapshot.Clients);
        Assert.Equal(before + 3, snapshot.Version);
        Assert.Equal(AccessTokenType.Reference, read.AccessTokenType);
        Assert.Equal(client.ClientSecrets.Single().Value, read.ClientSecrets.Single().Value);
        Assert.Equal("http://www.w3.org/2001/XMLSchema#integer", read.Claims.Single().ValueType);
        Assert.Equal("api1", Assert.Single(snapshot.ApiScopes).Name);
    }

    [Fact]
    public async Task An_HmacSecret_is_encrypted_at_rest_and_read_back_whole()
    {
        const string hmac = "hmac-0123456789abcdef0123456789abcdef0123456789";
        await using var factory = await FactoryAsync();
        var store = factory.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        var client = M2m("c1", "api1");
        client.ClientSecrets.Add(Secret.FromHmacSecret(hmac));
        await store.SaveClientAsync(client, default);

        var row = await factory.Database.RunAsync(db => db.Clients.AsNoTracking().Where(r => r.Name == "c1").Select(r => r.Json).SingleAsync(), default);
        Assert.DoesNotContain(hmac, row, StringComparison.Ordinal);
        Assert.Contains("protected:v1:", row, StringComparison.Ordinal);

        // The hash stays a hash; the model saved is not changed by the encryption.
        Assert.Contains(client.ClientSecrets.First().Value, row, StringComparison.Ordinal);
        Assert.Equal(hmac, client.ClientSecrets.Last().Value);

        var read = Assert.Single((await store.LoadAsync(default)).Clients);
        Assert.Equal([SecretTypes.SharedSecret, SecretTypes.HmacSecret], read.ClientSecrets.Select(s => s.Type));
        Assert.Equal(hmac, read.ClientSecrets.Last().Value);

        // An import writes through the same encryption.
        await store.ReplaceAllAsync(new ConfigurationSnapshot { Version = 0, Clients = [client], ApiScopes = [new ApiScope("api1")] }, default);
        row = await factory.Database.RunAsync(db => db.Clients.AsNoTracking().Where(r => r.Name == "c1").Select(r => r.Json).SingleAsync(), default);
        Assert.DoesNotContain(hmac, row, StringComparison.Ordinal);
        Assert.Equal(hmac, Assert.Single((await store.LoadAsync(default)).Clients).ClientSecrets.Last().Value);
    }

    [Fact]
    public async Task An_HmacSecret_whose_key_ring_is_gone_is_left_out_and_the_rest_still_loads()
    {
        await using var factory = await FactoryAsync();
        var store = factory.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        var client = M2m("c1", "api1");
        client.ClientSecrets.Add(Secret.FromHmacSecret("hmac-0123456789abcdef0123456789abcdef0123456789"));
        await store.SaveClientAsync(client, default);
        await store.SaveClientAsync(M2m("c2", "api1"), default);

        // Another node that has lost the Data Protection keys: the ones in the database are deleted, and it has never
        // held them in memory.
        await factory.Database.RunAsync(db => db.DataProtectionKeys.ExecuteDeleteAsync(), default);
        await using var other = await StoreFactory.OnAsync(DatabaseProvider.Sqlite, factory.ConnectionString);
        var snapshot = await other.Get<EntityFrameworkConfigurationStore>().LoadAsync(default);

        Assert.Equal(["c1", "c2"], snapshot.Clients.Select(c => c.ClientId));
        Assert.Equal([SecretTypes.SharedSecret], snapshot.Clients[0].ClientSecrets.Select(s => s.Type));
    }

    [Fact]
    public async Task The_engine_serves_a_change_and_refuses_one_that_does_not_validate_keeping_the_last_good_configuration()
    {
        await using var factory = await FactoryAsync();
        var store = factory.Get<EntityFrameworkConfigurationStore>();
        var clients = factory.Get<IClientStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        await store.SaveClientAsync(M2m("c1", "api1"), default);
        await factory.Get<CastellanStartupValidator>().ValidateWithStoreAsync(default);
        Assert.NotNull(await clients.FindClientByIdAsync("c1", default));

        // A client naming a scope nobody configured: logged and not used.
        await store.SaveClientAsync(M2m("c2", "no-such-scope"), default);
        await factory.Get<SnapshotConfigurationStore>().RefreshAsync(default);
        Assert.Null(await clients.FindClientByIdAsync("c2", default));
        Assert.NotNull(await clients.FindClientByIdAsync("c1", default));

        // Fixed: served.
        await store.SaveApiScopeAsync(new ApiScope("no-such-scope"), default);
        await factory.Get<SnapshotConfigurationStore>().RefreshAsync(default);
        Assert.NotNull(await clients.FindClientByIdAsync("c2", default));
    }

    [Fact]
    public async Task An_invalid_stored_configuration_stops_the_server_from_starting()
    {
        await using var factory = await FactoryAsync();
        await factory.Get<EntityFrameworkConfigurationStore>().SaveClientAsync(M2m("c1", "missing"), default);

        var ex = await Assert.ThrowsAsync<CastellanConfigurationException>(() => factory.Get<CastellanStartupValidator>().ValidateWithStoreAsync(default));
        Assert.Contains(ex.Errors, e => e.Contains("missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lookups_are_answered_from_the_cache_and_an_unchanged_version_is_not_read_again()
    {
        var counter = new CountingSource();
        await using var factory = await StoreFactory.SqliteAsync(services =>
        {
            services.Configure<CastellanOptions>(o => o.ConfigurationCacheLifetime = TimeSpan.FromHours(1));
            services.Replace(ServiceDescriptor.Singleton<IConfigurationSnapshotSource>(sp => counter.Wrap(sp.GetRequiredService<EntityFrameworkConfigurationStore>())));
        });
        var store = factory.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        await store.SaveClientAsync(M2m("c1", "api1"), default);
        var clients = factory.Get<IClientStore>();

        var first = await clients.FindClientByIdAsync("c1", default);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Same(first, await clients.FindClientByIdAsync("c1", default));
        }

        Assert.Equal(1, counter.Loads);
        Assert.Equal(0, counter.VersionChecks);

        // Asked explicitly, the source answers its version; unchanged, nothing is read and the instances stay.
        await factory.Get<SnapshotConfigurationStore>().RefreshAsync(default);
        Assert.Equal(1, counter.VersionChecks);
        Assert.Equal(1, counter.Loads);
        Assert.Same(first, await clients.FindClientByIdAsync("c1", default));
    }

    /// <summary>Counts what the engine asks of the real source.</summary>
    internal sealed class CountingSource
    {
        public int Loads;
        public int VersionChecks;

        public IConfigurationSnapshotSource Wrap(IConfigurationSnapshotSource inner) => new Counting(this, inner);

        private sealed class Counting(CountingSource counts, IConfigurationSnapshotSource inner) : IConfigurationSnapshotSource
        {
            public Task<long> GetVersionAsync(CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref counts.VersionChecks);
                return inner.GetVersionAsync(cancellationToken);
            }

            public Task<ConfigurationSnapshot> LoadAsync(CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref counts.Loads);
                return inner.LoadAsync(cancellationToken);
            }
        }
    }
}

/// <summary>
/// An HmacSecret on PostgreSQL: encrypted in the row, and read back whole by another node, which has the Data
/// Protection key ring through the same database.
/// </summary>
[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlHmacSecretStoreTests(PostgresCluster cluster)
{
    [Fact]
    public async Task An_HmacSecret_is_encrypted_in_the_row_and_another_node_reads_it_whole()
    {
        const string hmac = "hmac-pg-0123456789abcdef0123456789abcdef0123456789";
        await using var first = await StoreFactory.PostgreSqlAsync(cluster);
        var client = new Client
        {
            ClientId = "c1",
            ClientSecrets = { Secret.FromHmacSecret(hmac) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        };
        await first.Get<EntityFrameworkConfigurationStore>().SaveClientAsync(client, default);

        var row = await first.Database.RunAsync(db => db.Clients.AsNoTracking().Where(r => r.Name == "c1").Select(r => r.Json).SingleAsync(), default);
        Assert.DoesNotContain(hmac, row, StringComparison.Ordinal);
        Assert.Contains("protected:v1:", row, StringComparison.Ordinal);

        await using var second = await StoreFactory.OnAsync(DatabaseProvider.PostgreSql, first.ConnectionString);
        var read = Assert.Single((await second.Get<EntityFrameworkConfigurationStore>().LoadAsync(default)).Clients);
        Assert.Equal(hmac, Assert.Single(read.ClientSecrets).Value);
    }
}
