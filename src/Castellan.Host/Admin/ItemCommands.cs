using System.CommandLine;
using System.Text.Json.Nodes;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>
/// <c>list</c>, <c>show</c>, <c>add</c>, <c>update</c> and <c>remove</c> for one kind of configuration item. Items
/// of the configuration file are listed and shown but never changed here; every change is validated together with
/// the configuration file before anything is written.
/// </summary>
internal static class ItemCommands
{
    /// <param name="prepareNew">Runs on a new item before it is validated; what it returns is printed once the item is stored (a generated secret).</param>
    public static Command Create<T>(AdminKind<T> kind, string description, AdminIO io, Func<T, IReadOnlyList<string>>? prepareNew = null)
        where T : class, new()
    {
        var command = new Command(kind.Command, description + " Those of the configuration file are shown, and changed only there. Takes the same arguments as the server.");

        var json = new Option<bool>("--json") { Description = "Print JSON (secrets redacted) instead of a table." };
        command.Subcommands.Add(AdminCommands.Create("list", $"Lists every {kind.Noun}: those of the configuration file and those in the database.", [json], io,
            (result, session, ct) => ListAsync(kind, session, result.GetValue(json), io.Output, ct)));

        var showId = AdminCommands.IdArgument(kind);
        command.Subcommands.Add(AdminCommands.Create("show", $"Prints one {kind.Noun} as JSON, in the configuration file's format, with secrets shown only by description and expiration.", [showId], io,
            (result, session, ct) => ShowAsync(kind, session, result.GetValue(showId)!, io.Output, ct)));

        var input = ItemInput.Create(kind);
        var addOptions = kind.CreateOptions();
        var idOption = new Option<string>(kind.IdOption) { Description = $"The {kind.IdProperty} (or give it in the JSON)." };
        command.Subcommands.Add(AdminCommands.Create("add",
            $"Adds a {kind.Noun} to the database: --json or --file holds one entry of the configuration file's {kind.Section} list (plain-text secrets are hashed; sha256:BASE64 is taken as hashed), and the options set single properties on top. Refuses an id that exists.",
            [.. input.Symbols, idOption, .. addOptions.Select(o => o.Option)], io,
            (result, session, ct) => AddAsync(kind, session, result, input, idOption, addOptions, prepareNew, io.Output, ct)));

        var updateId = AdminCommands.IdArgument(kind);
        var updateOptions = kind.CreateOptions();
        var updateInput = ItemInput.Create(kind);
        command.Subcommands.Add(AdminCommands.Create("update",
            $"Changes a {kind.Noun} of the database: the properties in --json or --file replace the current ones (those left out keep their values), then the options apply. The {kind.IdProperty} cannot change.",
            [updateId, .. updateInput.Symbols, .. updateOptions.Select(o => o.Option)], io,
            (result, session, ct) => UpdateAsync(kind, session, result, result.GetValue(updateId)!, updateInput, updateOptions, io.Output, ct)));

        var removeId = AdminCommands.IdArgument(kind);
        command.Subcommands.Add(AdminCommands.Create("remove", $"Removes a {kind.Noun} from the database; refused while the rest of the configuration still names it.", [removeId], io,
            (result, session, ct) => RemoveAsync(kind, session, result.GetValue(removeId)!, io.Output, ct)));
        return command;
    }

    private static async Task<int> ListAsync<T>(AdminKind<T> kind, AdminSession session, bool asJson, TextWriter output, CancellationToken cancellationToken)
        where T : class, new()
    {
        var stored = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var items = kind.InCode(session.InCode).OrderBy(kind.Id, StringComparer.Ordinal).Select(i => (Item: i, Source: "file"))
            .Concat(kind.Stored(stored).OrderBy(kind.Id, StringComparer.Ordinal).Select(i => (Item: i, Source: "database")))
            .ToList();
        if (asJson)
        {
            var array = new JsonArray();
            foreach (var (item, source) in items)
            {
                var node = new JsonObject { ["Source"] = source };
                foreach (var (name, value) in ConfigurationJson.ToJson(item, redact: true))
                {
                    node[name] = value?.DeepClone();
                }

                array.Add(node);
            }

            await output.WriteLineAsync(ConfigurationJson.Print(array)).ConfigureAwait(false);
            return 0;
        }

        if (items.Count == 0)
        {
            await output.WriteLineAsync($"No {kind.Noun}s: add one with `{kind.Command} add`.").ConfigureAwait(false);
            return 0;
        }

        TextTable.Write(output, [kind.IdProperty, .. kind.Columns.Select(c => c.Header), "source"],
            [.. items.Select(i => (IReadOnlyList<string>)[kind.Id(i.Item), .. kind.Columns.Select(c => c.Value(i.Item)), i.Source])]);
        return 0;
    }

    private static async Task<int> ShowAsync<T>(AdminKind<T> kind, AdminSession session, string id, TextWriter output, CancellationToken cancellationToken)
        where T : class, new()
    {
        var stored = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var (item, source) = kind.FindStored(stored, id) is { } inDatabase
            ? (inDatabase, "in the database")
            : kind.FindInCode(session.InCode, id) is { } inFile
                ? (inFile, "in the configuration file (read-only here)")
                : throw Unknown(kind, id);

        await output.WriteLineAsync($"{kind.Title} '{id}', {source}:").ConfigureAwait(false);
        await output.WriteLineAsync(ConfigurationJson.Print(ConfigurationJson.ToJson(item, redact: true))).ConfigureAwait(false);
        if (kind.Secrets?.Invoke(item) is { Count: > 0 } secrets)
        {
            await output.WriteLineAsync("Secrets (remove-secret takes the index or the description):").ConfigureAwait(false);
            TextTable.Write(output, ["index", "type", "description", "expires", "value"],
            [
                .. secrets.Select((s, i) => (IReadOnlyList<string>)
                [
                    i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    s.Type,
                    s.Description ?? "",
                    s.Expiration is { } e ? TextTable.Date(e) + (e <= session.Time.GetUtcNow() ? " (expired)" : "") : "never",

                    ShownValue(s),
                ]),
            ]);
        }

        return 0;
    }

    /// <summary>What `show` prints of a secret: enough to tell secrets apart, never enough to use or guess one.</summary>
    private static string ShownValue(Secret secret) => secret.Type switch
    {
        // A prefix tells hashes apart; the whole hash would help guessing a weak secret offline.
        SecretTypes.SharedSecret => Secret.Sha256Prefix + secret.Value[..Math.Min(8, secret.Value.Length)] + "...",
        SecretTypes.HmacSecret => "(hidden)",
        SecretTypes.X509Name or SecretTypes.X509Thumbprint => secret.Value,
        // A public key: its RFC 7638 thumbprint names it.
        SecretTypes.JsonWebKey => Castellan.Clients.Authentication.ClientKeys.FromSecret(secret.Value) is { } key
            ? "jkt " + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(key.ComputeJwkThumbprint())
            : "(not a public key)",
        _ => "",
    };

    private static async Task<int> AddAsync<T>(AdminKind<T> kind, AdminSession session, ParseResult result, ItemInput input, Option<string> idOption,
        IReadOnlyList<ItemOption<T>> options, Func<T, IReadOnlyList<string>>? prepareNew, TextWriter output, CancellationToken cancellationToken)
        where T : class, new()
    {
        var given = input.Read(result);
        var item = given is null ? new T() : Single(kind, ConfigurationJson.ReadItem(given, kind.Section, kind.Noun));
        if (result.GetValue(idOption) is { } id)
        {
            kind.SetId(item, id);
        }

        foreach (var option in options)
        {
            option.ApplyIfGiven(result, item);
        }

        id = kind.Id(item);
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new AdminException($"Give the {kind.Noun}'s {kind.IdProperty}: {kind.IdOption} or \"{kind.IdProperty}\" in the JSON.");
        }

        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        if (kind.FindInCode(session.InCode, id) is not null)
        {
            throw new AdminException($"The configuration file defines {kind.Noun} '{id}' already; an id is used once.");
        }

        if (kind.FindStored(before, id) is not null)
        {
            throw new AdminException($"The database has {kind.Noun} '{id}' already; change it with `{kind.Command} update {id}`.");
        }

        var notes = prepareNew?.Invoke(item) ?? [];
        var remaining = session.EnsureValid(before, kind.With(before, item));
        await kind.SaveAsync(session.Store, item, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Added {kind.Noun} '{id}'. {session.Propagation}").ConfigureAwait(false);
        foreach (var note in notes)
        {
            await output.WriteLineAsync(note).ConfigureAwait(false);
        }

        AdminSession.WarnRemaining(remaining, output);
        return 0;
    }

    private static async Task<int> UpdateAsync<T>(AdminKind<T> kind, AdminSession session, ParseResult result, string id, ItemInput input,
        IReadOnlyList<ItemOption<T>> options, TextWriter output, CancellationToken cancellationToken)
        where T : class, new()
    {
        var changes = input.Read(result);
        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var currentJson = ConfigurationJson.ToJson(FindChangeable(kind, session, before, id));
        var item = Single(kind, ConfigurationJson.ReadItem(changes is null ? currentJson : ConfigurationJson.Overlay(currentJson, changes), kind.Section, kind.Noun));
        var optionsGiven = options.Count(o => o.ApplyIfGiven(result, item));
        if (changes is null && optionsGiven == 0)
        {
            throw new AdminException($"Nothing to change: give --json, --file or an option (see `{kind.Command} update --help`).");
        }

        if (kind.Id(item) != id)
        {
            throw new AdminException($"The {kind.IdProperty} of a {kind.Noun} cannot change: add '{kind.Id(item)}' and remove '{id}' instead.");
        }

        var remaining = session.EnsureValid(before, kind.With(before, item));
        await kind.SaveAsync(session.Store, item, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Updated {kind.Noun} '{id}'. {session.Propagation}").ConfigureAwait(false);
        AdminSession.WarnRemaining(remaining, output);
        return 0;
    }

    private static async Task<int> RemoveAsync<T>(AdminKind<T> kind, AdminSession session, string id, TextWriter output, CancellationToken cancellationToken)
        where T : class, new()
    {
        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        FindChangeable(kind, session, before, id);
        var remaining = session.EnsureValid(before, kind.Without(before, id));
        if (!await kind.RemoveAsync(session.Store, id, cancellationToken).ConfigureAwait(false))
        {
            throw Unknown(kind, id);
        }

        await output.WriteLineAsync($"Removed {kind.Noun} '{id}'. {session.Propagation}").ConfigureAwait(false);
        AdminSession.WarnRemaining(remaining, output);
        return 0;
    }

    /// <summary>The stored item with this id, which the admin commands may change; one of the configuration file is refused with a message that says so.</summary>
    public static T FindChangeable<T>(AdminKind<T> kind, AdminSession session, ConfigurationSnapshot stored, string id)
        where T : class, new()
        => kind.FindStored(stored, id)
           ?? (kind.FindInCode(session.InCode, id) is not null
               ? throw new AdminException($"{kind.Title} '{id}' is defined in the configuration file (or in code), not in the database: change or remove it there.")
               : throw Unknown(kind, id));

    /// <summary>A copy of a stored item to change, read back through the loader as an update is.</summary>
    public static T Copy<T>(AdminKind<T> kind, T item)
        where T : class, new()
        => Single(kind, ConfigurationJson.ReadItem(ConfigurationJson.ToJson(item), kind.Section, kind.Noun));

    private static T Single<T>(AdminKind<T> kind, ConfigurationSnapshot read)
        where T : class, new()
        => kind.Stored(read) is [var item] ? item : new T();

    private static AdminException Unknown<T>(AdminKind<T> kind, string id)
        where T : class, new()
        => new($"There is no {kind.Noun} '{id}'. `{kind.Command} list` lists them.");
}

/// <summary>The item an <c>add</c> or <c>update</c> is given: <c>--json '{...}'</c> or <c>--file item.json</c>.</summary>
internal sealed class ItemInput
{
    private readonly Option<string> _json;
    private readonly Option<string> _file;

    private ItemInput(Option<string> json, Option<string> file)
    {
        _json = json;
        _file = file;
    }

    public IReadOnlyList<Symbol> Symbols => [_json, _file];

    public static ItemInput Create(AdminKind kind) => new(
        new Option<string>("--json") { Description = $"The {kind.Noun} as JSON: one entry of the configuration file's {kind.Section} list, e.g. '{{\"{kind.IdProperty}\": \"...\"}}'." },
        new Option<string>("--file") { Description = $"A file holding the {kind.Noun} as JSON, like --json." });

    /// <returns>The JSON object given, or null when neither option was.</returns>
    public JsonObject? Read(ParseResult result)
    {
        var json = result.GetValue(_json);
        var file = result.GetValue(_file);
        return (json, file) switch
        {
            ({ }, { }) => throw new AdminException("Give --json or --file, not both."),
            ({ } text, null) => ConfigurationJson.ParseObject(text, "--json"),
            (null, { } path) => ConfigurationJson.ParseObject(File.ReadAllText(path), path),
            _ => null,
        };
    }
}
