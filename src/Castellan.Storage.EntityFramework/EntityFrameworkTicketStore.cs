using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Server-side sessions: the single sign-on session's authentication ticket lives in <c>ServerSideSessions</c>, and
/// the cookie carries only a random key to it (ASP.NET Core's <see cref="ITicketStore"/>). Every node reads the
/// same sessions; logout deletes the row, so a copied cookie is worth nothing afterwards; and a session can be
/// ended from the server (by subject or session id) in every browser at once.
/// </summary>
/// <remarks>The ticket is stored Data-Protection encrypted, like the cookie would have been.</remarks>
internal sealed class EntityFrameworkTicketStore(CastellanDatabase database, IDataProtectionProvider dataProtection, TimeProvider time) : ITicketStore
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Castellan.ServerSideSessions.v1");

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var key = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await database.WriteAsync(async db =>
        {
            db.ServerSideSessions.Add(Row(key, ticket));
            await db.SaveChangesAsync().ConfigureAwait(false);
        }, CancellationToken.None).ConfigureAwait(false);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var row = Row(key, ticket);
        return database.WriteAsync(db => db.ServerSideSessions.Where(s => s.Key == key).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.Renewed, row.Renewed)
            .SetProperty(s => s.Expires, row.Expires)
            .SetProperty(s => s.SubjectId, row.SubjectId)
            .SetProperty(s => s.SessionId, row.SessionId)
            .SetProperty(s => s.Data, row.Data)), CancellationToken.None);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key)
        => database.RunAsync(async db =>
        {
            var row = await db.ServerSideSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Key == key).ConfigureAwait(false);
            if (row is null || row.Expires is { } expires && expires <= time.GetUtcNow().UtcDateTime)
            {
                return null;
            }

            try
            {
                return TicketSerializer.Default.Deserialize(_protector.Unprotect(row.Data));
            }
            catch (CryptographicException)
            {
                // Written under Data Protection keys this node no longer has: as good as signed out.
                return null;
            }
        }, CancellationToken.None);

    public Task RemoveAsync(string key)
        => database.WriteAsync(db => db.ServerSideSessions.Where(s => s.Key == key).ExecuteDeleteAsync(), CancellationToken.None);

    /// <summary>
    /// Sessions of <paramref name="subject"/> and <paramref name="session"/> (each optional), oldest first, for the admin
    /// commands. Neither the key nor the ticket is read: the key is as good as the session cookie.
    /// </summary>
    internal Task<List<ServerSideSession>> ListAsync(string? subject, string? session, int limit, CancellationToken cancellationToken)
        => database.RunAsync(async db =>
        {
            var rows = await Matching(db.ServerSideSessions.AsNoTracking(), subject, session).OrderBy(s => s.Created).Take(limit)
                .Select(s => new { s.SubjectId, s.SessionId, s.Created, s.Renewed, s.Expires })
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.Select(r => new ServerSideSession(r.SubjectId, r.SessionId, Utc(r.Created), Utc(r.Renewed), r.Expires is { } expires ? Utc(expires) : null)).ToList();
        }, cancellationToken);

    /// <summary>
    /// Ends every session of <paramref name="subject"/> and <paramref name="session"/> (given together, both must
    /// match) in one statement: their cookies sign nobody in on any node afterwards.
    /// </summary>
    /// <returns>How many sessions were ended.</returns>
    internal Task<int> RemoveAllAsync(string? subject, string? session, CancellationToken cancellationToken)
    {
        if (subject is null && session is null)
        {
            throw new ArgumentException("Name a subject or a session to end sessions by.", nameof(subject));
        }

        return database.WriteAsync(db => Matching(db.ServerSideSessions, subject, session).ExecuteDeleteAsync(cancellationToken), cancellationToken);
    }

    private static IQueryable<ServerSideSessionRow> Matching(IQueryable<ServerSideSessionRow> rows, string? subject, string? session)
    {
        if (subject is not null)
        {
            rows = rows.Where(s => s.SubjectId == subject);
        }

        if (session is not null)
        {
            rows = rows.Where(s => s.SessionId == session);
        }

        return rows;
    }

    // The columns hold UTC without a kind.
    private static DateTimeOffset Utc(DateTime value) => new(value, TimeSpan.Zero);

    private ServerSideSessionRow Row(string key, AuthenticationTicket ticket) => new()
    {
        Key = key,
        SubjectId = ticket.Principal.FindFirst("sub")?.Value,
        SessionId = ticket.Principal.FindFirst("sid")?.Value,
        Created = (ticket.Properties.IssuedUtc ?? time.GetUtcNow()).UtcDateTime,
        Renewed = time.GetUtcNow().UtcDateTime,
        Expires = ticket.Properties.ExpiresUtc?.UtcDateTime,
        Data = _protector.Protect(TicketSerializer.Default.Serialize(ticket)),
    };
}

/// <summary>A server-side session as the admin commands show it: who and when, never the key or the ticket.</summary>
internal sealed record ServerSideSession(string? SubjectId, string? SessionId, DateTimeOffset Created, DateTimeOffset Renewed, DateTimeOffset? Expires);
