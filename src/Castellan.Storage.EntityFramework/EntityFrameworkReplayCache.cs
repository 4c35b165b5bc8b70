using Castellan.Security;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// The replay cache in the database (<c>ReplayEntries</c>): strictly once-only across every node that shares it, and
/// across restarts. Each check is one statement, an insert that on a conflicting key takes over the row only if its
/// entry has expired, sent in <see cref="GrantQueue"/>'s batches. The key's unique index makes callers racing on one key, on any node, queue behind the first
/// insert; each of the others then finds a live entry and changes no row. So exactly one of them is told the value
/// is new, which <see cref="DistributedReplayCache"/>'s read-then-write cannot promise.
/// </summary>
/// <remarks>
/// Expired rows are removed by the store's cleanup (<see cref="EntityFrameworkStoreOptions.EnableCleanup"/>); one
/// that is still there is taken over by the next insert of its key. A database that cannot be reached fails the
/// request (<see cref="Castellan.Stores.StoreUnavailableException"/>, answered with 503): a value that could not be
/// recorded is never accepted.
/// </remarks>
internal sealed class EntityFrameworkReplayCache(GrantQueue queue, CastellanDatabase database, TimeProvider time) : IReplayCache
{
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

        // In the grant queue's transactions (GrantStatements' RecordOnce): under load one commit serves many proofs.
        return await queue.RecordOnceAsync(ReplayCacheKey.For(purpose, value), expiresAt.UtcDateTime, now.UtcDateTime).ConfigureAwait(false);
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
