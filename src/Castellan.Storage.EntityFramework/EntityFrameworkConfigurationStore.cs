using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Castellan.Stores;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Clients, API scopes, API resources and identity resources in the database: read by the engine through
/// <see cref="IConfigurationSnapshotSource"/> (cached, validated once per change), written through the methods
/// here (the admin commands, an admin UI of your own). Every write increments the configuration version in the
/// same transaction, which is how every node learns that it should read again; on PostgreSQL the write also
/// notifies the nodes listening (<see cref="EntityFrameworkStoreOptions.NotifyConfigurationChanges"/>) at its commit.
/// </summary>
/// <remarks>
/// Secrets are stored as the model holds them: hashes, public keys and certificate names, which give nothing away.
/// The one exception is <see cref="SecretTypes.HmacSecret"/> (<c>client_secret_jwt</c>), which is the secret itself: its
/// value is encrypted with ASP.NET Core Data Protection before it is written and decrypted when it is read, so a copy of
/// the table (a backup, a replica, a leaked dump) does not hold it without the key ring.
/// </remarks>
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

    /// <summary>Marks a secret value encrypted by <see cref="ProtectSecrets"/>, and the version of its format.</summary>
    internal const string ProtectedPrefix = "protected:v1:";

    private readonly IDataProtector _secrets;
    private readonly ILogger _logger;

    public EntityFrameworkConfigurationStore(CastellanDatabase database, IDataProtectionProvider dataProtection, ILogger<EntityFrameworkConfigurationStore>? logger = null)
    {
        _database = database;
        _secrets = dataProtection.CreateProtector("Castellan.ClientSecrets.v1");
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

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
                Clients = (await ReadAsync<Client>(db.Clients, cancellationToken).ConfigureAwait(false)).Select(UnprotectSecrets).ToArray(),
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
        // Encrypted before the write's transaction opens (see ReplaceAllAsync).
        return SaveAsync(CastellanDbContext.ClientsTable, client.ClientId, ProtectSecrets(client), cancellationToken);
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

        // Encrypted before the transaction opens: the first encryption may create a Data Protection key, which is
        // written to this database, and on SQLite would wait for this transaction's lock.
        var now = DateTime.UtcNow;
        var clients = snapshot.Clients.Select(c => new ConfigurationRow { Name = c.ClientId, Json = ProtectSecrets(c), Updated = now }).ToArray();
        return WriteAsync(async db =>
        {
            foreach (var table in new[] { CastellanDbContext.ClientsTable, CastellanDbContext.ApiScopesTable, CastellanDbContext.ApiResourcesTable, CastellanDbContext.IdentityResourcesTable })
            {
                await db.Set<ConfigurationRow>(table).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }

            db.Clients.AddRange(clients);
            db.ApiScopes.AddRange(snapshot.ApiScopes.Select(s => Row(s.Name, s, now)));
            db.ApiResources.AddRange(snapshot.ApiResources.Select(r => Row(r.Name, r, now)));
            db.IdentityResources.AddRange(snapshot.IdentityResources.Select(r => Row(r.Name, r, now)));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    private Task SaveAsync<T>(string table, string name, T item, CancellationToken cancellationToken)
        => SaveAsync(table, name, JsonSerializer.Serialize(item, Json), cancellationToken);

    private Task SaveAsync(string table, string name, string json, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return WriteAsync(async db =>
        {
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

    /// <summary>The client as stored: its JSON, with the value of each <see cref="SecretTypes.HmacSecret"/> encrypted.</summary>
    internal string ProtectSecrets(Client client)
    {
        if (!client.ClientSecrets.Any(s => s.Type == SecretTypes.HmacSecret))
        {
            return JsonSerializer.Serialize(client, Json);
        }

        var node = JsonSerializer.SerializeToNode(client, Json)!.AsObject();
        foreach (var secret in node[nameof(Client.ClientSecrets)]!.AsArray().OfType<JsonObject>())
        {
            if (secret[nameof(Secret.Type)]?.GetValue<string>() == SecretTypes.HmacSecret && secret[nameof(Secret.Value)]?.GetValue<string>() is { } value)
            {
                secret[nameof(Secret.Value)] = ProtectedPrefix + _secrets.Protect(value);
            }
        }

        return node.ToJsonString(Json);
    }

    /// <summary>
    /// The client as the engine uses it, its HmacSecrets decrypted. One that cannot be (the key ring that encrypted it
    /// is gone) is left out and logged: that client cannot use it, and every other client keeps working.
    /// </summary>
    private Client UnprotectSecrets(Client client)
    {
        if (!client.ClientSecrets.Any(s => s.Type == SecretTypes.HmacSecret))
        {
            return client;
        }

        var secrets = new List<Secret>(client.ClientSecrets.Count);
        foreach (var secret in client.ClientSecrets)
        {
            if (secret.Type != SecretTypes.HmacSecret || !secret.Value.StartsWith(ProtectedPrefix, StringComparison.Ordinal))
            {
                secrets.Add(secret);
                continue;
            }

            try
            {
                secret.Value = _secrets.Unprotect(secret.Value[ProtectedPrefix.Length..]);
                secrets.Add(secret);
            }
            catch (CryptographicException ex)
            {
                _logger.LogError(ex, "An HmacSecret of client '{ClientId}' cannot be decrypted (the Data Protection key ring that encrypted it is not available) and is left out; add the secret again.", client.ClientId);
            }
        }

        client.ClientSecrets = secrets;
        return client;
    }

    private static ConfigurationRow Row<T>(string name, T item, DateTime now) => new() { Name = name, Json = JsonSerializer.Serialize(item, Json), Updated = now };

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(IQueryable<ConfigurationRow> rows, CancellationToken cancellationToken)
    {
        var json = await rows.AsNoTracking().OrderBy(r => r.Name).Select(r => r.Json).ToListAsync(cancellationToken).ConfigureAwait(false);
        return json.Select(j => JsonSerializer.Deserialize<T>(j, Json) ?? throw new InvalidDataException("A configuration row holds JSON null.")).ToArray();
    }
}
