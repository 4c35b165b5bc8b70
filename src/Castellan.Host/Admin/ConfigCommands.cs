using System.CommandLine;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>
/// <c>config export</c> and <c>config import</c>: the database's clients, scopes and resources as a configuration
/// file, with secrets as their <c>sha256:</c> hashes, so an export imports to the same configuration elsewhere.
/// </summary>
internal static class ConfigCommands
{
    public static Command Create(AdminIO io)
    {
        var command = new Command("config", "The database's clients, scopes and resources as a file in the configuration-file format ({ \"Castellan\": { \"Clients\": [...], ... } }). Takes the same arguments as the server.");

        var output = new Option<string>("--output") { Description = "Write to this file (created readable by its owner only) instead of standard output." };
        command.Subcommands.Add(AdminCommands.Create("export",
            "Writes the clients, API scopes, API resources and identity resources of the database, with secrets as sha256: hashes (no secret in plain text). The configuration file's own items are not included: they are in that file.",
            [output], io,
            (result, session, ct) => ExportAsync(session, result.GetValue(output), io.Output, ct)));

        var file = AdminCommands.Positional("file", "A file in the configuration-file format, e.g. from `config export`.");
        var replace = new Option<bool>("--replace") { Description = "Make the database hold exactly the file's items: those not in the file are removed. Default: the file's items are added, or replace those with the same id." };
        command.Subcommands.Add(AdminCommands.Create("import",
            "Reads a configuration file as the server reads its --config file (same checks, same errors), validates the result together with the server's configuration file and writes it in one transaction. Server settings in the file (IssuerUri, KeyManagement, ...) are not kept in the database and are ignored.",
            [file, replace], io,
            (result, session, ct) => ImportAsync(session, result.GetValue(file)!, result.GetValue(replace), io.Output, ct)));
        return command;
    }

    private static async Task<int> ExportAsync(AdminSession session, string? path, TextWriter output, CancellationToken cancellationToken)
    {
        var snapshot = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var json = ConfigurationJson.Export(snapshot);
        if (path is null)
        {
            await output.WriteLineAsync(json).ConfigureAwait(false);
            return 0;
        }

        // Hashes of secrets: not the secrets, but a weak secret can be guessed from its hash offline.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteLineAsync(json).ConfigureAwait(false);
        }

        await output.WriteLineAsync($"Exported {Counts(snapshot)} from {session.Storage.Describe()} to {Path.GetFullPath(path)}.").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> ImportAsync(AdminSession session, string path, bool replace, TextWriter output, CancellationToken cancellationToken)
    {
        var (items, ignored) = ConfigurationJson.ReadFile(path);
        if (AdminKinds.All.All(k => k.Count(items) == 0))
        {
            throw new AdminException($"{path} has no clients, API scopes, API resources or identity resources to import.");
        }

        var inFile = AdminKinds.All.SelectMany(k => k.DefinedInCode(items, session.InCode).Select(id => $"{k.Noun} '{id}'")).ToList();
        if (inFile.Count > 0)
        {
            throw new AdminException("Refused, nothing was written: the server's configuration file defines these already (an id is used once):"
                                     + Environment.NewLine + AdminSession.Bullets(inFile));
        }

        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        ConfigurationSnapshot after;
        string summary;
        if (replace)
        {
            after = items;
            summary = $"{Counts(items)}, in place of the {Counts(before)} it held";
        }
        else
        {
            after = before;
            var parts = new List<string>();
            foreach (var kind in AdminKinds.All)
            {
                (after, var added, var replaced) = kind.Merge(after, items);
                parts.Add($"{kind.Count(items)} {kind.Noun}s ({added} new, {replaced} replaced)");
            }

            summary = string.Join(", ", parts);
        }

        var remaining = session.EnsureValid(before, after);
        await session.Store.ReplaceAllAsync(after, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Imported {Path.GetFullPath(path)} into {session.Storage.Describe()}: {summary}. {session.Propagation}").ConfigureAwait(false);
        if (ignored.Count > 0)
        {
            await output.WriteLineAsync($"Not imported (server settings, which belong in the server's configuration): {string.Join(", ", ignored)}.").ConfigureAwait(false);
        }

        AdminSession.WarnRemaining(remaining, output);
        return 0;
    }

    private static string Counts(ConfigurationSnapshot snapshot) => string.Join(", ", AdminKinds.All.Select(k => $"{k.Count(snapshot)} {k.Noun}s"));
}
