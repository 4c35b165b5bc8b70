using System.CommandLine;
using System.Text.Json.Nodes;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>How a listing command prints one kind of item: as a table row, or as JSON.</summary>
/// <param name="None">The line for no items, e.g. "No grants match.".</param>
internal sealed record ListFormat<T>(IReadOnlyList<string> Headers, Func<T, IReadOnlyList<string>> Row, Func<T, JsonNode> Json, string None);

/// <summary>The <c>list</c> commands of grants and sessions: a filter, <c>--limit</c>, <c>--json</c>, and a table or a JSON array of what they found.</summary>
internal static class Listing
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 100_000;

    /// <param name="read">Finds at most the given number of items matching the filter, oldest first.</param>
    public static Command Create<T>(string description, FilterOptions filter, AdminIO io, Func<AdminSession, PersistedGrantFilter, int, CancellationToken, Task<List<T>>> read, ListFormat<T> format)
    {
        var limit = new Option<int>("--limit") { Description = $"At most this many, oldest first. Default: {DefaultLimit}.", DefaultValueFactory = _ => DefaultLimit };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        return AdminCommands.Create("list", description, [.. filter.Options, limit, json], io, async (result, session, cancellationToken) =>
        {
            var max = result.GetValue(limit);
            if (max is < 1 or > MaxLimit)
            {
                throw new AdminException($"--limit must be between 1 and {MaxLimit}.");
            }

            var items = await read(session, filter.Read(result), max, cancellationToken).ConfigureAwait(false);
            await WriteAsync(io.Output, items, max, result.GetValue(json), format).ConfigureAwait(false);
            return 0;
        });
    }

    private static async Task WriteAsync<T>(TextWriter output, List<T> items, int limit, bool asJson, ListFormat<T> format)
    {
        if (asJson)
        {
            JsonArray array = [.. items.Select(format.Json)];
            await output.WriteLineAsync(ConfigurationJson.Print(array)).ConfigureAwait(false);
            return;
        }

        if (items.Count == 0)
        {
            await output.WriteLineAsync(format.None).ConfigureAwait(false);
            return;
        }

        TextTable.Write(output, format.Headers, [.. items.Select(format.Row)]);
        if (items.Count == limit)
        {
            await output.WriteLineAsync($"The first {limit} are shown; there may be more (--limit).").ConfigureAwait(false);
        }
    }
}
