using System.Data.Common;
using Castellan.Stores;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// <see cref="IPersistedGrantStore"/> on the database. Every decision is one conditional statement, so nodes
/// sharing the database agree without coordinating: a one-time grant is consumed by an <c>UPDATE … WHERE
/// ConsumedTime IS NULL</c> that only one caller can win, a rotation consumes and inserts in one transaction, and
/// revocations and cleanup are set-based deletes.
/// </summary>
/// <remarks>
/// The statements of the token endpoint's paths (read, store, consume, rotate) are <see cref="GrantStatements"/>,
/// with no tracking, no savepoint and no read before the write; a consumption reads the row it consumed from the
/// <c>UPDATE</c> itself (<c>RETURNING</c>). The writes among them go through <see cref="GrantQueue"/>, which
/// commits those arriving together in one transaction.
/// </remarks>
internal sealed class EntityFrameworkGrantStore(CastellanDatabase database, GrantQueue writes) : IPersistedGrantStore
{
    public Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return writes.StoreAsync(ToRow(grant)).WaitAsync(cancellationToken);
    }

    public async Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var row = await writes.FindAsync(key).WaitAsync(cancellationToken).ConfigureAwait(false);
        return row is null ? null : FromRow(row);
    }

    public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken)
        => database.WriteAsync(async db => await db.PersistedGrants.Where(g => g.Key == key).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0,
            cancellationToken);

    public async Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
        => Consumed(await writes.ConsumeAsync(key, now.UtcDateTime).WaitAsync(cancellationToken).ConfigureAwait(false));

    public async Task<PersistedGrant?> TryConsumeAndReplaceAsync(string key, PersistedGrant replacement, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        return Consumed(await writes.ConsumeAndInsertAsync(key, now.UtcDateTime, ToRow(replacement)).WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    public Task<int> RemoveAllAsync(PersistedGrantFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (!filter.IsScoped)
        {
            throw new ArgumentException("Name a family, subject, session or client to remove grants by.", nameof(filter));
        }

        return database.WriteAsync(async db =>
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
    /// PostgreSQL only: takes the transaction's locks on a family and a session, in that order, so a revocation and a
    /// rotation in the same family (or session) run one after the other. Without them, a delete that started while a
    /// rotation was inserting its replacement would not see the new row, and a replayed refresh token would leave its
    /// family one member alive. SQLite has one writer at a time, which does the same.
    /// </summary>
    private static Task LockSetsAsync(CastellanDbContext db, string? family, string? session, CancellationToken cancellationToken)
        => GrantStatements.LockSetsAsync(db, [.. GrantStatements.SetLocks(family, session)], cancellationToken);

    public Task<int> RemoveExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var cutoff = now.UtcDateTime;
        return database.WriteAsync(db =>
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

    // The grant as it was before this caller consumed it, or null when another caller did, or it expired, or it is
    // unknown. RETURNING gives the row after the update; the caller gets the grant as it was, unconsumed, as from
    // every store.
    private static PersistedGrant? Consumed(PersistedGrantRow? row) => row is null ? null : FromRow(row) with { ConsumedTime = null };

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

    /// <summary>The row <see cref="StoreAsync"/> writes for <paramref name="grant"/> (the benchmark seeds its pools with it, in bulk).</summary>
    internal static PersistedGrantRow ToRow(PersistedGrant grant) => new()
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
