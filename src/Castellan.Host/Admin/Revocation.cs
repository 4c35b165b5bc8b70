using System.CommandLine;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>
/// What <c>grants revoke</c> and <c>sessions end</c> both do: end the server-side sessions of a subject or session id,
/// and remove the grants, so the refresh tokens those sessions were given stop working with them.
/// </summary>
internal static class Revocation
{
    // Counted before confirmation only to tell the operator the size of what they are about to do.
    private const int PreviewLimit = 1000;

    /// <summary>A command that revokes: <paramref name="filter"/>'s options and <c>--yes</c>.</summary>
    /// <param name="refuse">Throws an <see cref="AdminException"/> for a filter the command does not take (one naming nothing), or a server it cannot work on.</param>
    public static Command Create(string name, string description, FilterOptions filter, AdminIO io, Action<AdminSession, PersistedGrantFilter> refuse)
    {
        var yes = new Option<bool>("--yes") { Description = "Confirms. Without it, the command only says how many grants (and sessions) it would remove." };
        return AdminCommands.Create(name, description, [.. filter.Options, yes], io, (result, session, cancellationToken) =>
        {
            var chosen = filter.Read(result);
            refuse(session, chosen);
            return RunAsync(session, chosen, result.GetValue(yes), io.Output, cancellationToken);
        });
    }

    /// <exception cref="AdminException">Not confirmed: says how many grants and sessions it would remove.</exception>
    private static async Task<int> RunAsync(AdminSession session, PersistedGrantFilter filter, bool confirmed, TextWriter output, CancellationToken cancellationToken)
    {
        // A session is a user's, not a client's: revoking a client's grants leaves its users signed in.
        var namesSessions = (filter.SubjectId ?? filter.SessionId) is not null;
        var sessions = namesSessions && filter.ClientId is null ? session.Sessions : null;
        var what = Describe(filter);
        if (!confirmed)
        {
            var grants = await session.Grants.ListAsync(filter, PreviewLimit, cancellationToken).ConfigureAwait(false);
            var found = sessions is null ? null : await sessions.ListAsync(filter.SubjectId, filter.SessionId, PreviewLimit, cancellationToken).ConfigureAwait(false);
            throw new AdminException($"This {(found is null ? "revokes" : $"ends {Count(found.Count)} server-side sessions and revokes")} {Count(grants.Count)} grants of {what}. Add --yes to confirm.");
        }

        // Sessions first: a session still alive while its grants are removed could be given new ones in between.
        int? ended = sessions is null ? null : await sessions.RemoveAllAsync(filter.SubjectId, filter.SessionId, cancellationToken).ConfigureAwait(false);
        var removed = await session.Services.GetRequiredService<IPersistedGrantStore>().RemoveAllAsync(filter, cancellationToken).ConfigureAwait(false);

        await output.WriteLineAsync(ended is { } count
            ? $"Ended {count} server-side sessions and revoked {removed} grants of {what}. The sessions' cookies sign nobody in any more, on every node; their reference and refresh tokens stop working at once; JWT access tokens stay valid until they expire."
            : $"Revoked {removed} grants of {what}. Their reference and refresh tokens stop working at once; JWT access tokens stay valid until they expire.").ConfigureAwait(false);
        if (namesSessions && filter.ClientId is not null)
        {
            await output.WriteLineAsync("Sessions are not ended when --client is given: `sessions end` ends them.").ConfigureAwait(false);
        }

        return 0;
    }

    private static string Count(int found) => found == PreviewLimit ? $"{PreviewLimit} or more" : found.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(PersistedGrantFilter filter) => string.Join(" and ", new[]
    {
        filter.ClientId is { } c ? $"client '{c}'" : null,
        filter.SubjectId is { } s ? $"subject '{s}'" : null,
        filter.SessionId is { } i ? $"session '{i}'" : null,
    }.OfType<string>());
}
