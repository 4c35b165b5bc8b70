using System.CommandLine;
using System.Text.Json;
using Castellan.Storage.EntityFramework;

namespace Castellan.Host.Admin;

/// <summary>
/// <c>sessions</c>: the single sign-on sessions kept in the database, listed by subject or session id, and ended
/// together with their grants.
/// </summary>
internal static class SessionCommands
{
    private static readonly ListFormat<ServerSideSession> Format = new(
        ["subject", "session", "created", "renewed", "expires"],
        s => [s.SubjectId ?? "", s.SessionId ?? "", TextTable.Date(s.Created), TextTable.Date(s.Renewed), TextTable.Date(s.Expires)],
        // The record has no key and no ticket to leave out.
        s => JsonSerializer.SerializeToNode(s)!,
        "No sessions match.");

    public static Command Create(AdminIO io)
    {
        var command = new Command("sessions", "Server-side sessions in the database: one per single sign-on session, the browser's cookie holding only a random key to it. Takes the same arguments as the server.");

        command.Subcommands.Add(Listing.Create(
            "Lists sessions (subject, session id, times), optionally only those of a subject or session. Never their keys, which are as good as the cookie, nor what they hold.",
            new FilterOptions("sessions", withClient: false, withType: false), io,
            (session, filter, limit, ct) => Store(session).ListAsync(filter.SubjectId, filter.SessionId, limit, ct), Format));

        command.Subcommands.Add(Revocation.Create("end",
            "Ends every session of a subject or a session id (given together, both must match): the user is signed out in every browser and on every node, and the grants of the subject or session are revoked too (as `grants revoke`), so their refresh tokens stop working. " +
            "The clients are not notified (no back-channel logout); JWT access tokens stay valid until they expire.",
            new FilterOptions("sessions", withClient: false, withType: false), io, (session, filter) =>
            {
                if (filter.SubjectId is null && filter.SessionId is null)
                {
                    throw new AdminException("Name whose sessions to end: --subject or --session (given together, both must match).");
                }

                _ = Store(session);
            }));
        return command;
    }

    /// <exception cref="AdminException">Sessions are not stored.</exception>
    private static EntityFrameworkTicketStore Store(AdminSession session)
        => session.Sessions ?? throw new AdminException("This server does not store sessions (each is its browser's cookie), so there are none to list or end here.");
}
