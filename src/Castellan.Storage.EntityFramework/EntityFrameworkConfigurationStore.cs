using System.Text.Json;
using System.Text.Json.Serialization;
using Castellan.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Clients, API scopes, API resources and identity resources in the database: read by the engine through
/// <see cref="IConfigurationSnapshotSource"/> (cached, validated once per change), written through the methods
/// here (the admin commands, an admin UI of your own). Every write increments the configuration version in the
/// same transaction, which is how every node learns that it should read again; on PostgreSQL the write also
/// notifies the nodes listening (<see cref="EntityFrameworkStoreOptions.NotifyConfigurationChanges"/>) at its commit.
/// </summary>
public sealed class EntityFrameworkConfigurationStore : IConfigurationSnapshotSource, IConfigurationChangeNotifier
{
    /// <summary>The PostgreSQL notification channel of configuration writes; the payload is the new version.</summary>
    internal const string ChangeChannel = "castellan_configuration";

    // NOTIFY is transactional: sent at the commit of the write, never for one rolled back.
    private const string NotifyChange = $"""SELECT pg_notify('{ChangeChannel}', "Version"::text) FROM "ConfigurationState" WHERE "Id" = 1""";

    private readonly CastellanDatabase _database;
    private CancellationTokenSource _changed = new();

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public EntityFrameworkConfigurationStore(CastellanDatabase database) => _database = database;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    /// <summary>Fires the change token: the database announced a change, or this process wrote one.</summary>
    internal void OnChanged()
    {
        // Not disposed: a reader may still be taking the token of the one replaced.
        Interlocked.Exchange(ref _changed, new CancellationTokenSource()).Cancel();
    }

    public Task<long> GetVersionAsync(CancellationToken cancellationToken)
        => _database.RunAsync(db => db.ConfigurationState.AsNoTracking().Where(s => s.Id == 1).Select(s => s.Version).FirstOrDefaultAsync(cancellationToken), cancellationToken);

    public Task<ConfigurationSnapshot> LoadAsync(CancellationToken cancellationToken)
        => _database.RunAsync(async db =>
        {
            // One transaction, so the version and the rows read belong together (a write in between would
            // otherwise be read half, under the old version, and never read again).
            await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            var version = await db.ConfigurationState.AsNoTracking().Where(s => s.Id == 1).Select(s => s.Version).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            var snapshot = new ConfigurationSnapshot
            {
                Version = version,
                Clients = await ReadAsync<Client>(db.Clients, cancellationToken).ConfigureAwait(false),
                ApiScopes = await ReadAsync<ApiScope>(db.ApiScopes, cancellationToken).ConfigureAwait(false),
                ApiResources = await ReadAsync<ApiResource>(db.ApiResources, cancellationToken).ConfigureAwait(false),
                IdentityResources = await ReadAsync<IdentityResource>(db.IdentityResources, cancellationToken).ConfigureAwait(false),
            };
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return snapshot;
        }, cancellationToken);

    public Task SaveClientAsync(Client client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        return SaveAsync(CastellanDbContext.ClientsTable, client.ClientId, client, cancellationToken);
    }

    public Task SaveApiScopeAsync(ApiScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return SaveAsync(CastellanDbContext.ApiScopesTable, scope.Name, scope, cancellationToken);
    }

    public Task SaveApiResourceAsync(ApiResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return SaveAsync(CastellanDbContext.ApiResourcesTable, resource.Name, resource, cancellationToken);
    }

    public Task SaveIdentityResourceAsync(IdentityResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return SaveAsync(CastellanDbContext.IdentityResourcesTable, resource.Name, resource, cancellationToken);
    }

    /// <returns>Whether it existed.</returns>
    public Task<bool> RemoveClientAsync(string clientId, CancellationToken cancellationToken) => RemoveAsync(CastellanDbContext.ClientsTable, clientId, cancellationToken);

    public Task<bool> RemoveApiScopeAsync(string name, CancellationToken cancellationToken) => RemoveAsync(CastellanDbContext.ApiScopesTable, name, cancellationToken);

    public Task<bool> RemoveApiResourceAsync(string name, CancellationToken cancellationToken) => RemoveAsync(CastellanDbContext.ApiResourcesTable, name, cancellationToken);

    public Task<bool> RemoveIdentityResourceAsync(string name, CancellationToken cancellationToken) => RemoveAsync(CastellanDbContext.IdentityResourcesTable, name, cancellationToken);

    /// <summary>Replaces the whole stored configuration with <paramref name="snapshot"/> in one transaction (an import).</summary>
    public Task ReplaceAllAsync(ConfigurationSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return WriteAsync(async db =>
        {
            var now = DateTime.UtcNow;
            foreach (var table in new[] { CastellanDbContext.ClientsTable, CastellanDbContext.ApiScopesTable, CastellanDbContext.ApiResourcesTable, CastellanDbContext.IdentityResourcesTable })
            {
                await db.Set<ConfigurationRow>(table).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }

            db.Clients.AddRange(snapshot.Clients.Select(c => Row(c.ClientId, c, now)));
            db.ApiScopes.AddRange(snapshot.ApiScopes.Select(s => Row(s.Name, s, now)));
            db.ApiResources.AddRange(snapshot.ApiResources.Select(r => Row(r.Name, r, now)));
            db.IdentityResources.AddRange(snapshot.IdentityResources.Select(r => Row(r.Name, r, now)));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    private Task SaveAsync<T>(string table, string name, T item, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return WriteAsync(async db =>
        {
            var json = JsonSerializer.Serialize(item, Json);
            var now = DateTime.UtcNow;
            var updated = await db.Set<ConfigurationRow>(table).Where(r => r.Name == name)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.Json, json).SetProperty(r => r.Updated, now), cancellationToken).ConfigureAwait(false);
            if (updated == 0)
            {
                db.Set<ConfigurationRow>(table).Add(new ConfigurationRow { Name = name, Json = json, Updated = now });
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    private Task<bool> RemoveAsync(string table, string name, CancellationToken cancellationToken)
        => WriteAsync(async db => await db.Set<ConfigurationRow>(table).Where(r => r.Name == name).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0,
            cancellationToken);

    /// <summary>A write and the version increment, in one transaction; the version moves only when something changed.</summary>
    private async Task<bool> WriteAsync(Func<CastellanDbContext, Task<bool>> write, CancellationToken cancellationToken)
    {
        var changed = await _database.WriteAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var wrote = await write(db).ConfigureAwait(false);
            if (wrote)
            {
                await db.ConfigurationState.Where(s => s.Id == 1)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.Version, s => s.Version + 1), cancellationToken).ConfigureAwait(false);
                if (_database.Provider == DatabaseProvider.PostgreSql)
                {
                    await db.Database.ExecuteSqlRawAsync(NotifyChange, cancellationToken).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return wrote;
        }, cancellationToken).ConfigureAwait(false);

        // This process's own snapshot need not wait for the database's announcement.
        if (changed)
        {
            OnChanged();
        }

        return changed;
    }

    private static ConfigurationRow Row<T>(string name, T item, DateTime now) => new() { Name = name, Json = JsonSerializer.Serialize(item, Json), Updated = now };

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(IQueryable<ConfigurationRow> rows, CancellationToken cancellationToken)
    {
        var json = await rows.AsNoTracking().OrderBy(r => r.Name).Select(r => r.Json).ToListAsync(cancellationToken).ConfigureAwait(false);
        return json.Select(j => JsonSerializer.Deserialize<T>(j, Json) ?? throw new InvalidDataException("A configuration row holds JSON null.")).ToArray();
    }
}
