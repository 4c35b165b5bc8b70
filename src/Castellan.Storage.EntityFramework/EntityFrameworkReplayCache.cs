using Castellan.Security;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// The replay cache in the database (<c>ReplayEntries</c>): strictly once-only across every node that shares it, and
/// across restarts. Each check is one statement, an insert that on a conflicting key takes over the row only if its
/// entry has expired. The key's unique index makes callers racing on one key, on any node, queue behind the first
/// insert; each of the others then finds a live entry and changes no row. So exactly one of them is told the value
/// is new, which <see cref="DistributedReplayCache"/>'s read-then-write cannot promise.
/// </summary>
/// <remarks>
/// Expired rows are removed by the store's cleanup (<see cref="EntityFrameworkStoreOptions.EnableCleanup"/>); one
/// that is still there is taken over by the next insert of its key. A database that cannot be reached fails the
/// request (<see cref="Castellan.Stores.StoreUnavailableException"/>, answered with 503): a value that could not be
/// recorded is never accepted.
/// </remarks>
internal sealed class EntityFrameworkReplayCache(CastellanDatabase database, TimeProvider time) : IReplayCache
{
    // The same text on both providers: SQLite (3.24 and later) and PostgreSQL share the upsert syntax. An entry is
    // live while now <= Expires, as in the in-memory cache.
    private const string TryAddSql = """
        INSERT INTO "ReplayEntries" ("Key", "Expires") VALUES (@key, @expires)
        ON CONFLICT ("Key") DO UPDATE SET "Expires" = excluded."Expires"
        WHERE "ReplayEntries"."Expires" < @now
        """;

    public async ValueTask<bool> TryAddAsync(string purpose, string value, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(value);
        var now = time.GetUtcNow();
        if (expiresAt < now)
        {
            // The caller no longer accepts it anyway (IReplayCache's contract): nothing to record.
            return true;
        }

        var key = ReplayCacheKey.For(purpose, value);
        var changed = await database.WriteAsync(db => InsertAsync(db, key, expiresAt.UtcDateTime, now.UtcDateTime, cancellationToken), cancellationToken, "ReplayCacheTryAdd")
            .ConfigureAwait(false);
        return changed == 1;
    }

    private async Task<int> InsertAsync(CastellanDbContext db, string key, DateTime expires, DateTime now, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = TryAddSql;
            if (db.Database.GetCommandTimeout() is { } timeout)
            {
                command.CommandTimeout = timeout;
            }

            GrantStatements.Add(command, "@key", key);
            GrantStatements.Add(command, "@expires", expires);
            GrantStatements.Add(command, "@now", now);
            if (database.Provider == DatabaseProvider.PostgreSql)
            {
                // Npgsql keeps prepared statements per physical connection across the pool's reuse: parsed once.
                await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
            }

            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Removes up to <paramref name="batch"/> entries that expired before <paramref name="cutoff"/>.</summary>
    /// <returns>How many were removed.</returns>
    internal Task<int> RemoveExpiredAsync(DateTimeOffset cutoff, int batch, CancellationToken cancellationToken)
    {
        var before = cutoff.UtcDateTime;
        return database.WriteAsync(db => db.ReplayEntries
            .Where(r => db.ReplayEntries.Where(e => e.Expires < before).OrderBy(e => e.Expires).Take(batch).Select(e => e.Key).Contains(r.Key))
            .ExecuteDeleteAsync(cancellationToken), cancellationToken, "ReplayCacheCleanup");
    }
}
