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
