using Castellan.Stores;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// <see cref="IPersistedGrantStore"/> on the database. Every decision is one conditional statement, so nodes
/// sharing the database agree without coordinating: a one-time grant is consumed by an <c>UPDATE … WHERE
/// ConsumedTime IS NULL</c> that only one caller can win, a rotation consumes and inserts in one transaction, and
/// revocations and cleanup are set-based deletes.
/// </summary>
internal sealed class EntityFrameworkGrantStore(CastellanDatabase database) : IPersistedGrantStore
{
    public Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return database.RunAsync(async db =>
        {
            // Almost every grant is new (its key is the hash of a fresh random handle): insert first, and overwrite
            // only when the key exists (a remembered consent given again).
            db.PersistedGrants.Add(ToRow(grant));
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException ex) when (CastellanDatabase.IsDuplicateKey(ex))
            {
                var row = ToRow(grant);
                await db.PersistedGrants.Where(g => g.Key == row.Key).ExecuteUpdateAsync(set => set
                    .SetProperty(g => g.Type, row.Type)
                    .SetProperty(g => g.ClientId, row.ClientId)
                    .SetProperty(g => g.SubjectId, row.SubjectId)
                    .SetProperty(g => g.SessionId, row.SessionId)
                    .SetProperty(g => g.FamilyId, row.FamilyId)
                    .SetProperty(g => g.CreationTime, row.CreationTime)
                    .SetProperty(g => g.Expiration, row.Expiration)
                    .SetProperty(g => g.ConsumedTime, row.ConsumedTime)
                    .SetProperty(g => g.Data, row.Data), cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    public Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken)
        => database.RunAsync(db => ReadAsync(db, key, cancellationToken), cancellationToken);

    public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken)
        => database.RunAsync(async db => await db.PersistedGrants.Where(g => g.Key == key).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0,
            cancellationToken);

    public Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
        => database.RunAsync(async db =>
        {
            // Read what will be returned first: after the update wins, the row is ours, but reading it before costs
            // the same round trip and leaves nothing to read for a loser.
            var grant = await ReadAsync(db, key, cancellationToken).ConfigureAwait(false);
            if (grant is null || grant.ConsumedTime is not null || grant.Expiration <= now)
            {
                return null;
            }

            return await ConsumeAsync(db, key, now, cancellationToken).ConfigureAwait(false) ? grant : null;
        }, cancellationToken);

    public Task<PersistedGrant?> TryConsumeAndReplaceAsync(string key, PersistedGrant replacement, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        return database.RunAsync(async db =>
        {
            var grant = await ReadAsync(db, key, cancellationToken).ConfigureAwait(false);
            if (grant is null || grant.ConsumedTime is not null || grant.Expiration <= now)
            {
                return null;
            }

            // One transaction: the consumption and the replacement are both kept, or neither.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await LockSetsAsync(db, replacement.FamilyId, replacement.SessionId, cancellationToken).ConfigureAwait(false);
            if (!await ConsumeAsync(db, key, now, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            db.PersistedGrants.Add(ToRow(replacement));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return grant;
        }, cancellationToken);
    }

    public Task<int> RemoveAllAsync(PersistedGrantFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (!filter.IsScoped)
        {
            throw new ArgumentException("Name a family, subject, session or client to remove grants by.", nameof(filter));
        }

        return database.RunAsync(async db =>
        {
            if (database.Provider != DatabaseProvider.PostgreSql || (filter.FamilyId is null && filter.SessionId is null))
            {
                return await Matching(db.PersistedGrants, filter).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await LockSetsAsync(db, filter.FamilyId, filter.SessionId, cancellationToken).ConfigureAwait(false);
            var removed = await Matching(db.PersistedGrants, filter).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return removed;
        }, cancellationToken);
    }

    /// <summary>
    /// On PostgreSQL, takes the transaction's locks on a family and a session, in that order, so a revocation and a
    /// rotation in the same family (or session) run one after the other. Without them, a delete that started while a
    /// rotation was inserting its replacement would not see the new row, and a replayed refresh token would leave its
    /// family one member alive. SQLite has one writer at a time, which does the same.
    /// </summary>
    private async Task LockSetsAsync(CastellanDbContext db, string? family, string? session, CancellationToken cancellationToken)
    {
        if (database.Provider != DatabaseProvider.PostgreSql)
        {
            return;
        }

        foreach (var name in new[] { family is null ? null : "castellan-family:" + family, session is null ? null : "castellan-session:" + session })
        {
            if (name is not null)
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({name}, 0))", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task<int> RemoveExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var cutoff = now.UtcDateTime;
        return database.RunAsync(db =>
        {
            if (database.Provider == DatabaseProvider.PostgreSql)
            {
                // Rows another node's cleanup (or a consumption) holds are skipped rather than waited for: two
                // cleaners never wait on each other, so they cannot deadlock, and each batch stays bounded.
                return db.Database.ExecuteSqlInterpolatedAsync($"""
                    DELETE FROM "PersistedGrants" WHERE "Key" IN (
                        SELECT "Key" FROM "PersistedGrants" WHERE "Expiration" <= {cutoff}
                        ORDER BY "Expiration" LIMIT {batchSize} FOR UPDATE SKIP LOCKED)
                    """, cancellationToken);
            }

            // SQLite has one writer at a time; the bounded subquery keeps each statement short.
            return db.PersistedGrants
                .Where(g => db.PersistedGrants.Where(e => e.Expiration <= cutoff).OrderBy(e => e.Expiration).Take(batchSize).Select(e => e.Key).Contains(g.Key))
                .ExecuteDeleteAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Grants matching <paramref name="filter"/>, for listing (the admin commands).</summary>
    internal Task<List<PersistedGrant>> ListAsync(PersistedGrantFilter filter, int limit, CancellationToken cancellationToken)
        => database.RunAsync(async db =>
        {
            var rows = await Matching(db.PersistedGrants.AsNoTracking(), filter).OrderBy(g => g.CreationTime).Take(limit)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.Select(FromRow).ToList();
        }, cancellationToken);

    private static async Task<bool> ConsumeAsync(CastellanDbContext db, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var at = now.UtcDateTime;

        // The decision: of all callers racing on one key (on any node), only one changes the row.
        var changed = await db.PersistedGrants
            .Where(g => g.Key == key && g.ConsumedTime == null && g.Expiration > at)
            .ExecuteUpdateAsync(set => set.SetProperty(g => g.ConsumedTime, at), cancellationToken).ConfigureAwait(false);
        return changed == 1;
    }

    private static IQueryable<PersistedGrantRow> Matching(IQueryable<PersistedGrantRow> rows, PersistedGrantFilter filter)
    {
        if (filter.FamilyId is { } family)
        {
            rows = rows.Where(g => g.FamilyId == family);
        }

        if (filter.SubjectId is { } subject)
        {
            rows = rows.Where(g => g.SubjectId == subject);
        }

        if (filter.SessionId is { } session)
        {
            rows = rows.Where(g => g.SessionId == session);
        }

        if (filter.ClientId is { } client)
        {
            rows = rows.Where(g => g.ClientId == client);
        }

        if (filter.Type is { } type)
        {
            rows = rows.Where(g => g.Type == type);
        }

        return rows;
    }

    private static async Task<PersistedGrant?> ReadAsync(CastellanDbContext db, string key, CancellationToken cancellationToken)
    {
        var row = await db.PersistedGrants.AsNoTracking().FirstOrDefaultAsync(g => g.Key == key, cancellationToken).ConfigureAwait(false);
        return row is null ? null : FromRow(row);
    }

    private static PersistedGrantRow ToRow(PersistedGrant grant) => new()
    {
        Key = grant.Key,
        Type = grant.Type,
        ClientId = grant.ClientId,
        SubjectId = grant.SubjectId,
        SessionId = grant.SessionId,
        FamilyId = grant.FamilyId,
        CreationTime = grant.CreationTime.UtcDateTime,
        Expiration = grant.Expiration.UtcDateTime,
        ConsumedTime = grant.ConsumedTime?.UtcDateTime,
        Data = grant.Data,
    };

    private static PersistedGrant FromRow(PersistedGrantRow row) => new()
    {
        Key = row.Key,
        Type = row.Type,
        ClientId = row.ClientId,
        SubjectId = row.SubjectId,
        SessionId = row.SessionId,
        FamilyId = row.FamilyId,
        CreationTime = new DateTimeOffset(row.CreationTime, TimeSpan.Zero),
        Expiration = new DateTimeOffset(row.Expiration, TimeSpan.Zero),
        ConsumedTime = row.ConsumedTime is { } consumed ? new DateTimeOffset(consumed, TimeSpan.Zero) : null,
        Data = row.Data,
    };
}
