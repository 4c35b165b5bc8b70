using System.CommandLine;
using Castellan.Host.Admin;
using Castellan.Keys;

namespace Castellan.Host;

/// <summary>
/// Operator commands beside "run the server": check a configuration, migrate the database, manage keys, make and
/// hash client secrets, and the admin commands on the database (<see cref="AdminCommands"/>). Anything that is not
/// one of these commands starts the server, with the arguments as configuration.
/// </summary>
internal static class HostCommands
{
    private static readonly string[] Names = ["check-config", "migrate", "keys", "new-secret", "hash-secret", .. AdminCommands.Names, "help", "--help", "-h", "-?", "--version"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Names.Contains(args[0], StringComparer.Ordinal);

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input)
    {
        var root = new RootCommand("Castellan token service. Without a command, runs the server; arguments are configuration (--config file.json, --Castellan:Key=value).");

        var check = new Command("check-config", "Loads the configuration as the server would and validates it, without starting the server or touching keys. Exit code 0 when valid, 2 when not. Takes the same arguments as the server.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        check.SetAction(result => WithValidatedAppAsync([.. result.UnmatchedTokens], error, app => Task.FromResult(CheckConfig(app, output)), notes: output));
        root.Subcommands.Add(check);

        var migrate = new Command("migrate", "Creates Castellan's tables in the database, or brings them up to this version (Castellan:Storage:Provider, ConnectionStrings:Castellan). Safe while other nodes run or start at the same time. Takes the same arguments as the server.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        migrate.SetAction((result, cancellationToken) => MigrateAsync([.. result.UnmatchedTokens], output, error, cancellationToken));
        root.Subcommands.Add(migrate);

        var keys = new Command("keys", "Lists the signing keys in the key store (the database, or the key folder with in-memory storage) and where each stands (announced, signing, retired), with its dates. Reads only (with a database, it first applies pending migrations, as the server would). Takes the same arguments as the server.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        Func<ParseResult, CancellationToken, Task<int>> listKeys = (result, cancellationToken) => WithKeysAsync([.. result.UnmatchedTokens], output, error,
            provider => ListKeysAsync(provider, output, cancellationToken));
        keys.SetAction(listKeys);

        // `keys list`: another name for `keys` alone, beside `keys rotate` and `keys revoke`.
        var list = new Command("list", "The same as `keys`: lists the signing keys and where each stands.") { TreatUnmatchedTokensAsErrors = false };
        list.SetAction(listKeys);
        keys.Subcommands.Add(list);

        var algorithm = new Option<string?>("--algorithm") { Description = "Only this algorithm (RS256, PS256, ES256); default: every configured one." };
        var rotate = new Command("rotate", "Creates a successor key now, in the key store. Running servers publish it at their next key reload (KeyManagement.KeyCacheDuration) or restart; it starts signing after KeyManagement.PropagationTime, like a scheduled successor, and the schedule then counts from it.")
        {
            algorithm,
        };
        rotate.TreatUnmatchedTokensAsErrors = false;
        rotate.SetAction((result, cancellationToken) => WithKeysAsync([.. result.UnmatchedTokens], output, error,
            provider => RotateAsync(provider, result.GetValue(algorithm), output, cancellationToken)));
        keys.Subcommands.Add(rotate);

        var kid = AdminCommands.Positional("kid", "The key id, as `keys` lists it.");
        var yes = new Option<bool>("--yes") { Description = "Confirms: tokens signed by this key stop validating once APIs refresh their key set." };
        var revoke = new Command("revoke", "Removes a key at once, for a compromised key (`keys delete` does the same). If it was signing, the server creates and signs with a new key at its next reload. Other nodes drop it at their next reload (KeyCacheDuration) or restart.")
        {
            kid,
            yes,
        };
        revoke.Aliases.Add("delete");
        revoke.TreatUnmatchedTokensAsErrors = false;
        revoke.SetAction((result, cancellationToken) => WithKeysAsync([.. result.UnmatchedTokens], output, error,
            provider => DeleteAsync(provider, result.GetValue(kid)!, result.GetValue(yes), output, error, cancellationToken)));
        keys.Subcommands.Add(revoke);
        root.Subcommands.Add(keys);

        var bytes = new Option<int>("--bytes") { Description = "Random bytes in the secret (16 to 64).", DefaultValueFactory = _ => 32 };
        var newSecret = new Command("new-secret", "Generates a client or API secret and the sha256: value to put in the configuration file instead of it.") { bytes };
        newSecret.SetAction(result => NewSecret(result.GetValue(bytes), output, error));
        root.Subcommands.Add(newSecret);

        var secret = new Argument<string?>("secret") { Description = "The secret; read from standard input when left out, so it stays out of the shell history.", Arity = ArgumentArity.ZeroOrOne };
        var hashSecret = new Command("hash-secret", "Prints the sha256: form of a secret for the configuration file.") { secret };
        hashSecret.SetAction(result => HashSecret(result.GetValue(secret) ?? input.ReadLine(), output, error));
        root.Subcommands.Add(hashSecret);

        AdminCommands.AddTo(root, new AdminIO(output, error, input));
        return InvokeAsync(root, args[0] == "help" ? ["--help"] : AdminCommands.ServerArgumentsLast(root, args), output, error);
    }

    /// <summary>A command line that does not parse (a missing argument, a bad value) is an operator mistake: the parser's message, the help, and exit code 2.</summary>
    private static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter output, TextWriter error)
    {
        var parsed = root.Parse(args);
        var code = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
        return parsed.Action is System.CommandLine.Invocation.ParseErrorAction ? OperatorErrors.ExitCode : code;
    }

    /// <summary>
    /// Builds the app as the server would (same configuration, key folder, Data Protection), without starting it,
    /// runs the startup checks and hands it over; operator mistakes become a message and exit code 2.
    /// </summary>
    /// <param name="prepareDatabase">Apply the migrations first when the server would (Castellan:Storage:MigrateOnStartup), for commands that work on the database.</param>
    /// <param name="notes">Where to say that the database's part of the configuration could not be checked.</param>
    private static async Task<int> WithValidatedAppAsync(string[] args, TextWriter error, Func<WebApplication, Task<int>> action, bool prepareDatabase = false, TextWriter? notes = null)
    {
        try
        {
            await using var app = CastellanHostApp.Build(args, builder => builder.Logging.ClearProviders());
            await ValidateAsync(app, prepareDatabase, notes ?? TextWriter.Null, CancellationToken.None).ConfigureAwait(false);
            return await action(app).ConfigureAwait(false);
        }
        catch (Exception ex) when (OperatorErrors.Is(ex))
        {
            error.WriteLine(OperatorErrors.Describe(ex));
            return OperatorErrors.ExitCode;
        }
    }

    /// <summary>
    /// The startup checks, with the database's configuration when there is one. A database without Castellan's
    /// tables (not created or not migrated yet) holds no configuration, so then the configuration file is checked
    /// alone, and <paramref name="notes"/> says so.
    /// </summary>
    private static async Task ValidateAsync(WebApplication app, bool prepareDatabase, TextWriter notes, CancellationToken cancellationToken)
    {
        var storage = app.Services.GetRequiredService<HostStorage>();
        var validator = app.Services.GetRequiredService<CastellanStartupValidator>();
        if (!storage.IsDatabase)
        {
            validator.Validate();
            return;
        }

        var database = app.Services.GetRequiredService<Castellan.Storage.EntityFramework.CastellanDatabase>();
        if (prepareDatabase && storage.MigrateOnStartup)
        {
            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (await storage.LacksTablesAsync(database, cancellationToken).ConfigureAwait(false))
        {
            validator.ValidateInCode();
            await notes.WriteLineAsync($"The database ({storage.Describe()}) has no Castellan tables yet, or needs `migrate`: only the configuration file was checked.").ConfigureAwait(false);
            return;
        }

        await validator.ValidateWithStoreAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> MigrateAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            // Not validated first: the configuration file may name scopes and clients only the database has.
            await using var app = CastellanHostApp.Build(args, builder => builder.Logging.ClearProviders());
            var storage = app.Services.GetRequiredService<HostStorage>();
            if (!storage.IsDatabase)
            {
                output.WriteLine("Castellan:Storage:Provider is InMemory: there is no database to migrate.");
                return 0;
            }

            var database = app.Services.GetRequiredService<Castellan.Storage.EntityFramework.CastellanDatabase>();
            var pending = await database.PendingMigrationsAsync(cancellationToken).ConfigureAwait(false);
            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);

            output.WriteLine(pending.Count == 0
                ? $"{storage.Describe()} is up to date."
                : $"{storage.Describe()}: applied {string.Join(", ", pending)}.");
            return 0;
        }
        catch (Exception ex) when (OperatorErrors.Is(ex))
        {
            error.WriteLine(OperatorErrors.Describe(ex));
            return OperatorErrors.ExitCode;
        }
    }

    private static int CheckConfig(WebApplication app, TextWriter output)
    {
        var loaded = app.Services.GetRequiredService<HostConfiguration.Loaded>();
        output.WriteLine($"The configuration is valid: {loaded.Clients.Count} clients, {loaded.ApiScopes.Count} API scopes, " +
                         $"{loaded.ApiResources.Count} API resources, {loaded.IdentityResources.Count} identity resources, " +
                         $"{loaded.TestUsers.Count} test users.");
        if (loaded.IsDemo)
        {
            output.WriteLine("Nothing is configured, so the server would serve the DEMO configuration.");
        }

        return 0;
    }

    /// <summary>
    /// The key commands, given the app's key provider; a static signing key has no folder to work on. An algorithm
    /// that is not configured, or a key folder locked by another node, is reported like an operator mistake.
    /// </summary>
    private static async Task<int> WithKeysAsync(string[] args, TextWriter output, TextWriter error, Func<KeyRingProvider, Task<int>> action)
    {
        try
        {
            return await WithValidatedAppAsync(args, error, app =>
            {
                var provider = app.Services.GetRequiredService<KeyRingProvider>();
                if (!provider.IsAutomatic)
                {
                    output.WriteLine("Static signing keys are configured (Castellan:SigningKey); their lifecycle is yours, there is no key folder.");
                    return Task.FromResult(0);
                }

                return action(provider);
            }, prepareDatabase: true).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            error.WriteLine(ex.Message);
            return OperatorErrors.ExitCode;
        }
    }

    private static async Task<int> ListKeysAsync(KeyRingProvider provider, TextWriter output, CancellationToken cancellationToken)
    {
        var reports = await provider.DescribeAsync(cancellationToken).ConfigureAwait(false);
        if (reports.Count == 0)
        {
            output.WriteLine("No signing keys yet: the server creates the first one when it starts.");
            return 0;
        }

        output.WriteLine($"{"kid",-24} {"alg",-6} {"status",-13} {"created",-17} {"signs from",-17} {"retires",-17} deleted after");
        foreach (var key in reports)
        {
            output.WriteLine($"{key.Id,-24} {key.Algorithm,-6} {key.Status.ToString().ToLowerInvariant(),-13} {Date(key.Created)} {Date(key.SignsFrom)} {Date(key.RetiresAt)} {Date(key.DeletedAt)}");
        }

        return 0;
    }

    private static async Task<int> RotateAsync(KeyRingProvider provider, string? algorithm, TextWriter output, CancellationToken cancellationToken)
    {
        var algorithms = algorithm is null ? provider.ManagedAlgorithms : [algorithm];
        foreach (var name in algorithms)
        {
            var id = await provider.RotateAsync(name, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"Created {name} key {id} in the key store. Running servers publish it at their next key reload (KeyManagement.KeyCacheDuration) or restart; it signs after KeyManagement.PropagationTime.");
        }

        return await ListKeysAsync(provider, output, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> DeleteAsync(KeyRingProvider provider, string kid, bool confirmed, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!confirmed)
        {
            error.WriteLine($"Deleting {kid} makes every token it signed fail at APIs once they refresh their key set. Add --yes to confirm.");
            return OperatorErrors.ExitCode;
        }

        if (!await provider.DeleteAsync(kid, cancellationToken).ConfigureAwait(false))
        {
            error.WriteLine($"No stored key has the id '{kid}'. Run `keys` to list them.");
            return OperatorErrors.ExitCode;
        }

        output.WriteLine($"Deleted {kid}. Restart the server nodes (or wait KeyManagement.KeyCacheDuration) so they stop publishing it.");
        return 0;
    }

    private static string Date(DateTimeOffset value) => TextTable.Date(value);

    private static int NewSecret(int bytes, TextWriter output, TextWriter error)
    {
        if (bytes is < 16 or > 64)
        {
            error.WriteLine("--bytes must be between 16 and 64.");
            return OperatorErrors.ExitCode;
        }

        var value = ClientCommands.NewSecret(bytes);
        output.WriteLine($"secret: {value}");
        output.WriteLine($"config: sha256:{Secret.Hash(value)}");
        output.WriteLine("Give the secret to the client (it is not shown again); put the config value in ClientSecrets or ApiSecrets.");
        return 0;
    }

    private static int HashSecret(string? value, TextWriter output, TextWriter error)
    {
        if (string.IsNullOrEmpty(value))
        {
            error.WriteLine("No secret given (as an argument or on standard input).");
            return OperatorErrors.ExitCode;
        }

        output.WriteLine($"sha256:{Secret.Hash(value)}");
        return 0;
    }
}
