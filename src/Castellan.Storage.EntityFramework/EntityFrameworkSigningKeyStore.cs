using Castellan.Keys;
using Microsoft.EntityFrameworkCore;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Signing keys in the database, shared by every node. Key creation is serialised through a lease, so nodes
/// starting together create one key between them, and a rotation started on one node is published (by every node,
/// at its next key reload) long before anyone signs with it: the key ring's propagation time does that part.
/// </summary>
internal sealed class EntityFrameworkSigningKeyStore(CastellanDatabase database, Leases leases) : ISigningKeyStore
{
    internal const string KeyCreationLease = "signing-key-creation";

    public Task<IReadOnlyList<SerializedKey>> LoadKeysAsync(CancellationToken cancellationToken)
        => database.RunAsync<IReadOnlyList<SerializedKey>>(async db =>
        {
            var rows = await db.SigningKeys.AsNoTracking().OrderBy(k => k.Created).ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.Select(r => new SerializedKey
            {
                Id = r.Id,
                Algorithm = r.Algorithm,
                Created = new DateTimeOffset(r.Created, TimeSpan.Zero),
                DataProtected = r.DataProtected,
                Data = r.Data,
            }).ToArray();
        }, cancellationToken);

    public Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return database.WriteAsync(async db =>
        {
            db.SigningKeys.Add(new SigningKeyRow
            {
                Id = key.Id,
                Algorithm = key.Algorithm,
                Created = key.Created.UtcDateTime,
                DataProtected = key.DataProtected,
                Data = key.Data,
            });
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task DeleteKeyAsync(string id, CancellationToken cancellationToken)
        => database.WriteAsync(db => db.SigningKeys.Where(k => k.Id == id).ExecuteDeleteAsync(cancellationToken), cancellationToken);

    public Task<IAsyncDisposable> LockForKeyCreationAsync(CancellationToken cancellationToken)
        => leases.AcquireAsync(KeyCreationLease, TimeSpan.FromMinutes(2), cancellationToken);
}

/// <summary>
/// Named locks across nodes, as rows of <c>Leases</c>: taken by inserting the row, given back by deleting it. A
/// node that dies holding one does not block the others for longer than the lease: an expired row is taken over.
/// One mechanism on both providers, so SQLite and PostgreSQL are tested alike.
/// </summary>
internal sealed class Leases(CastellanDatabase database, TimeProvider time)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(1);

    public async Task<IAsyncDisposable> AcquireAsync(string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var holder = Guid.NewGuid().ToString("N");
        var deadline = time.GetUtcNow() + MaxWait;
        while (true)
        {
            if (await TryAcquireAsync(name, holder, duration, cancellationToken).ConfigureAwait(false))
            {
                return new Lease(this, name, holder);
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new Castellan.Stores.StoreUnavailableException($"The lease '{name}' was not released within {MaxWait.TotalSeconds:F0} seconds.");
            }

            await Task.Delay(Poll, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<bool> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken)
        => database.WriteAsync(async db =>
        {
            var now = time.GetUtcNow().UtcDateTime;

            // A lease whose holder died is free again.
            await db.Leases.Where(l => l.Name == name && l.Expires < now).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            db.Leases.Add(new LeaseRow { Name = name, Holder = holder, Expires = now + duration });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (DbUpdateException ex) when (CastellanDatabase.IsDuplicateKey(ex))
            {
                return false;
            }
        }, cancellationToken);

    private Task ReleaseAsync(string name, string holder)
        => database.WriteAsync(db => db.Leases.Where(l => l.Name == name && l.Holder == holder).ExecuteDeleteAsync(CancellationToken.None), CancellationToken.None);

    private sealed class Lease(Leases leases, string name, string holder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await leases.ReleaseAsync(name, holder).ConfigureAwait(false);
    }
}
