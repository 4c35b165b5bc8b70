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
    private const int DefaultLimit = 100;

    public static Command Create(AdminIO io)
    {
        var command = new Command("grants", "Grants in the database: reference tokens, authorization codes, refresh tokens and remembered consents. Only hashes of their handles are stored. Takes the same arguments as the server.");

        var list = new Filter(withType: true);
        var limit = new Option<int>("--limit") { Description = $"At most this many, oldest first. Default: {DefaultLimit}.", DefaultValueFactory = _ => DefaultLimit };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        command.Subcommands.Add(AdminCommands.Create("list", "Lists grants, optionally only those of a client, subject or session (and of a type).", [.. list.Options, limit, json], io,
            (result, session, ct) => ListAsync(session, list.Read(result), result.GetValue(limit), result.GetValue(json), io.Output, ct)));

        var revoke = new Filter(withType: false);
        var yes = new Option<bool>("--yes") { Description = "Confirms the revocation." };
        command.Subcommands.Add(AdminCommands.Create("revoke",
            "Removes every grant of a client, subject or session (filters combine): their reference and refresh tokens stop working at once, their codes cannot be redeemed, and their consents are asked again. JWT access tokens stay valid until they expire.",
            [.. revoke.Options, yes], io,
            (result, session, ct) => RevokeAsync(session, revoke.Read(result), result.GetValue(yes), io.Output, ct)));

        command.Subcommands.Add(AdminCommands.Create("cleanup",
            "Removes expired grants and server-side sessions now, in bounded batches, as every server node does in the background (Castellan:Storage:CleanupInterval).", [], io,
            (_, session, ct) => CleanupAsync(session, io.Output, ct)));
        return command;
    }

    private static async Task<int> ListAsync(AdminSession session, PersistedGrantFilter filter, int limit, bool asJson, TextWriter output, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 100_000)
        {
            throw new AdminException("--limit must be between 1 and 100000.");
        }

        var grants = await Store(session).ListAsync(filter, limit, cancellationToken).ConfigureAwait(false);
        if (asJson)
        {
            // Never the data: it holds the user's claims.
            JsonArray array = [.. grants.Select(g => (JsonNode)new JsonObject
            {
                ["Type"] = g.Type,
                ["ClientId"] = g.ClientId,
                ["SubjectId"] = g.SubjectId,
                ["SessionId"] = g.SessionId,
                ["FamilyId"] = g.FamilyId,
                ["CreationTime"] = g.CreationTime,
                ["Expiration"] = g.Expiration,
                ["ConsumedTime"] = g.ConsumedTime,
            })];
            await output.WriteLineAsync(ConfigurationJson.Print(array)).ConfigureAwait(false);
            return 0;
        }

        if (grants.Count == 0)
        {
            await output.WriteLineAsync("No grants match.").ConfigureAwait(false);
            return 0;
        }

        TextTable.Write(output, ["type", "client", "subject", "session", "created", "expires", "consumed"],
            [.. grants.Select(g => (IReadOnlyList<string>)[g.Type, g.ClientId, g.SubjectId ?? "", g.SessionId ?? "", TextTable.Date(g.CreationTime), TextTable.Date(g.Expiration), TextTable.Date(g.ConsumedTime)])]);
        if (grants.Count == limit)
        {
            await output.WriteLineAsync($"The first {limit} are shown; there may be more (--limit).").ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task<int> RevokeAsync(AdminSession session, PersistedGrantFilter filter, bool confirmed, TextWriter output, CancellationToken cancellationToken)
    {
        if (!filter.IsScoped)
        {
            throw new AdminException("Name whose grants to revoke: --client, --subject or --session (they combine).");
        }

        if (!confirmed)
        {
            var found = await Store(session).ListAsync(filter, 1000, cancellationToken).ConfigureAwait(false);
            throw new AdminException($"This revokes {(found.Count == 1000 ? "1000 or more" : found.Count)} grants of {Describe(filter)}. Add --yes to confirm.");
        }

        var removed = await session.Services.GetRequiredService<IPersistedGrantStore>().RemoveAllAsync(filter, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Revoked {removed} grants of {Describe(filter)}. Their reference and refresh tokens stop working at once; JWT access tokens stay valid until they expire.").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> CleanupAsync(AdminSession session, TextWriter output, CancellationToken cancellationToken)
    {
        var cleanup = ActivatorUtilities.CreateInstance<GrantCleanup>(session.Services);
        var removed = await cleanup.RunOnceAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Removed {removed} expired grants and server-side sessions.").ConfigureAwait(false);
        return 0;
    }

    private static EntityFrameworkGrantStore Store(AdminSession session) => session.Services.GetRequiredService<EntityFrameworkGrantStore>();

    private static string Describe(PersistedGrantFilter filter) => string.Join(" and ", new[]
    {
        filter.ClientId is { } c ? $"client '{c}'" : null,
        filter.SubjectId is { } s ? $"subject '{s}'" : null,
        filter.SessionId is { } i ? $"session '{i}'" : null,
    }.OfType<string>());

    /// <summary>The options that choose grants.</summary>
    private sealed class Filter
    {
        private readonly Option<string> _client = new("--client") { Description = "Only grants issued to this client_id." };
        private readonly Option<string> _subject = new("--subject") { Description = "Only grants of this user (sub)." };
        private readonly Option<string> _session = new("--session") { Description = "Only grants of this sign-in session (sid)." };
        private readonly Option<string>? _type;

        public Filter(bool withType)
        {
            if (withType)
            {
                _type = new Option<string>("--type") { Description = "Only this type: reference_token, authorization_code, refresh_token, user_consent." };
            }
        }

        public IReadOnlyList<Symbol> Options => _type is null ? [_client, _subject, _session] : [_client, _subject, _session, _type];

        public PersistedGrantFilter Read(ParseResult result) => new()
        {
            ClientId = result.GetValue(_client),
            SubjectId = result.GetValue(_subject),
            SessionId = result.GetValue(_session),
            Type = _type is null ? null : result.GetValue(_type),
        };
    }
}
