using Castellan.Stores;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// The back-channel logout queue in the database. A claim is one <c>UPDATE</c> that moves the due rows'
/// <c>NextAttempt</c> past the claim's end and marks them with a fresh claimant id (on PostgreSQL skipping rows another
/// node is claiming), then the rows with that id are read: two nodes never claim one delivery, and one that dies
/// mid-delivery gives it back when its claim runs out.
/// </summary>
internal sealed class EntityFrameworkBackChannelLogoutStore(CastellanDatabase database) : IBackChannelLogoutStore
{
    public Task AddAsync(IReadOnlyList<PendingBackChannelLogout> deliveries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        return database.WriteAsync(async db =>
        {
            db.BackChannelLogoutDeliveries.AddRange(deliveries.Select(d => new BackChannelLogoutRow
            {
                Id = d.Id,
                Issuer = d.Issuer,
                ClientId = d.ClientId,
                Uri = d.Uri,
                SubjectId = d.SubjectId,
                SessionId = d.SessionId,
                Attempts = d.Attempts,
                NextAttempt = d.NextAttempt.UtcDateTime,
                Created = d.Created.UtcDateTime,
            }));
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<PendingBackChannelLogout>> ClaimAsync(DateTimeOffset now, DateTimeOffset claimUntil, int max, CancellationToken cancellationToken)
        => database.WriteAsync<IReadOnlyList<PendingBackChannelLogout>>(async db =>
        {
            var claimant = Guid.NewGuid().ToString("N");
            var at = now.UtcDateTime;
            var until = claimUntil.UtcDateTime;
            int claimed;
            if (database.Provider == DatabaseProvider.PostgreSql)
            {
                claimed = await db.Database.ExecuteSqlInterpolatedAsync($"""
                    UPDATE "BackChannelLogoutDeliveries" SET "NextAttempt" = {until}, "Claimant" = {claimant}
                    WHERE "Id" IN (SELECT "Id" FROM "BackChannelLogoutDeliveries" WHERE "NextAttempt" <= {at}
                                   ORDER BY "NextAttempt" LIMIT {max} FOR UPDATE SKIP LOCKED)
                    """, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                claimed = await db.BackChannelLogoutDeliveries
                    .Where(d => db.BackChannelLogoutDeliveries.Where(e => e.NextAttempt <= at).OrderBy(e => e.NextAttempt).Take(max).Select(e => e.Id).Contains(d.Id))
                    .ExecuteUpdateAsync(set => set.SetProperty(d => d.NextAttempt, until).SetProperty(d => d.Claimant, claimant), cancellationToken).ConfigureAwait(false);
            }

            if (claimed == 0)
            {
                return [];
            }

            var rows = await db.BackChannelLogoutDeliveries.AsNoTracking().Where(d => d.Claimant == claimant).ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.Select(r => new PendingBackChannelLogout
            {
                Id = r.Id,
                Issuer = r.Issuer,
                ClientId = r.ClientId,
                Uri = r.Uri,
                SubjectId = r.SubjectId,
                SessionId = r.SessionId,
                Attempts = r.Attempts,
                NextAttempt = new DateTimeOffset(r.NextAttempt, TimeSpan.Zero),
                Created = new DateTimeOffset(r.Created, TimeSpan.Zero),
            }).ToArray();
        }, cancellationToken);

    public Task RemoveAsync(string id, CancellationToken cancellationToken)
        => database.WriteAsync(db => db.BackChannelLogoutDeliveries.Where(d => d.Id == id).ExecuteDeleteAsync(cancellationToken), cancellationToken);

    public Task RescheduleAsync(string id, int attempts, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        var next = nextAttempt.UtcDateTime;
        return database.WriteAsync(db => db.BackChannelLogoutDeliveries.Where(d => d.Id == id)
            .ExecuteUpdateAsync(set => set.SetProperty(d => d.Attempts, attempts).SetProperty(d => d.NextAttempt, next).SetProperty(d => d.Claimant, (string?)null), cancellationToken), cancellationToken);
    }
}
