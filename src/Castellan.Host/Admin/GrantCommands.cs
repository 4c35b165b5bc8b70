using System.CommandLine;
using System.Text.Json.Nodes;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>
/// <c>grants</c>: what the server has issued and keeps (reference tokens, authorization codes, refresh tokens,
/// remembered consents), listed and revoked by client, subject or session, and expired ones removed.
/// </summary>
internal static class GrantCommands
{
    // Never the data: it holds the user's claims.
    private static readonly ListFormat<PersistedGrant> Format = new(
        ["type", "client", "subject", "session", "created", "expires", "consumed"],
        g => [g.Type, g.ClientId, g.SubjectId ?? "", g.SessionId ?? "", TextTable.Date(g.CreationTime), TextTable.Date(g.Expiration), TextTable.Date(g.ConsumedTime)],
        g => new JsonObject
        {
            ["Type"] = g.Type,
            ["ClientId"] = g.ClientId,
            ["SubjectId"] = g.SubjectId,
            ["SessionId"] = g.SessionId,
            ["FamilyId"] = g.FamilyId,
            ["CreationTime"] = g.CreationTime,
            ["Expiration"] = g.Expiration,
            ["ConsumedTime"] = g.ConsumedTime,
        },
        "No grants match.");

    public static Command Create(AdminIO io)
    {
        var command = new Command("grants", "Grants in the database: reference tokens, authorization codes, refresh tokens and remembered consents. Only hashes of their handles are stored. Takes the same arguments as the server.");

        command.Subcommands.Add(Listing.Create("Lists grants, optionally only those of a client, subject or session (and of a type).",
            new FilterOptions("grants", withClient: true, withType: true), io, (session, filter, limit, ct) => session.Grants.ListAsync(filter, limit, ct), Format));

        command.Subcommands.Add(Revocation.Create("revoke",
            "Removes every grant of a client, subject or session (filters combine): their reference and refresh tokens stop working at once, their codes cannot be redeemed, and their consents are asked again. JWT access tokens stay valid until they expire. " +
            "With --subject or --session and no --client, it also ends those server-side sessions (as `sessions end`), so the user is signed out on every node.",
            new FilterOptions("grants", withClient: true, withType: false), io, (_, filter) =>
            {
                if (!filter.IsScoped)
                {
                    throw new AdminException("Name whose grants to revoke: --client, --subject or --session (they combine).");
                }
            }));

        command.Subcommands.Add(AdminCommands.Create("cleanup",
            "Removes expired grants, server-side sessions and replay entries (DPoP proof and client assertion ids) now, in bounded batches, as every server node does in the background (Castellan:Storage:CleanupInterval).", [], io,
            (_, session, ct) => CleanupAsync(session, io.Output, ct)));
        return command;
    }

    private static async Task<int> CleanupAsync(AdminSession session, TextWriter output, CancellationToken cancellationToken)
    {
        var cleanup = GrantCleanup.Create(session.Services);
        var removed = await cleanup.RunOnceAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Removed {removed} expired grants, server-side sessions and replay entries.").ConfigureAwait(false);
        return 0;
    }
}
