using Castellan.Storage.EntityFramework;
using Castellan.Stores;
using Microsoft.Extensions.Options;

namespace Castellan.Host.Admin;

/// <summary>An operator mistake found by an admin command (an unknown id, a refused change): its message and exit code 2.</summary>
internal sealed class AdminException(string message) : Exception(message);

/// <summary>
/// The database an admin command works on, opened as the server would open it (same arguments, same
/// configuration file), without starting the server: the database's configuration store and grant store, the
/// configuration file's clients and resources, and the rules every configuration must pass.
/// </summary>
internal sealed class AdminSession
{
    private readonly ConfigurationRules _rules;

    private AdminSession(WebApplication app, HostStorage storage)
    {
        Services = app.Services;
        Storage = storage;
        _rules = app.Services.GetRequiredService<ConfigurationRules>();
        InCode = app.Services.GetRequiredService<InMemoryConfiguration>();
        Store = app.Services.GetRequiredService<EntityFrameworkConfigurationStore>();
        Time = app.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        CacheLifetime = app.Services.GetRequiredService<IOptions<CastellanOptions>>().Value.ConfigurationCacheLifetime;
    }

    public IServiceProvider Services { get; }

    public HostStorage Storage { get; }

    /// <summary>The clients, scopes and resources of the configuration file (or the demo): read-only for the admin commands.</summary>
    public InMemoryConfiguration InCode { get; }

    public EntityFrameworkConfigurationStore Store { get; }

    public EntityFrameworkGrantStore Grants => Services.GetRequiredService<EntityFrameworkGrantStore>();

    /// <summary>The server-side sessions, or null when each session is only its browser's cookie (sessions not stored).</summary>
    public EntityFrameworkTicketStore? Sessions => Services.GetService<EntityFrameworkTicketStore>();

    public TimeProvider Time { get; }

    public TimeSpan CacheLifetime { get; }

    /// <summary>What every write ends with: where it went, and when the running servers see it.</summary>
    public string Propagation => Storage.NotifyConfigurationChanges
        ? $"Running servers on {Storage.Describe()} use it within about a second (at the latest within Castellan:ConfigurationCacheLifetime, {CacheLifetime.TotalSeconds:0.#} s, if they miss the database's notice)."
        : $"Running servers on {Storage.Describe()} use it within Castellan:ConfigurationCacheLifetime ({CacheLifetime.TotalSeconds:0.#} s).";

    /// <summary>
    /// Builds the app from <paramref name="args"/>, applies pending migrations when the server would
    /// (<c>Castellan:Storage:MigrateOnStartup</c>), checks the options and runs <paramref name="action"/>. Operator
    /// mistakes, a database that cannot be reached included, become a message and exit code 2.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter error, Func<AdminSession, Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            await using var app = CastellanHostApp.Build(args, builder => builder.Logging.ClearProviders());
            var storage = app.Services.GetRequiredService<HostStorage>();
            if (!storage.IsDatabase)
            {
                throw new AdminException("Castellan:Storage:Provider is InMemory: there is no database to manage. Clients, scopes and resources come from the " +
                                         "configuration file alone, grants live in the server's memory and sessions in the browsers' cookies. Use Sqlite or PostgreSql (docs/admin-cli.md).");
            }

            await PrepareAsync(app.Services.GetRequiredService<CastellanDatabase>(), storage, cancellationToken).ConfigureAwait(false);

            // Options and static keys as the server checks them; the clients and resources are checked per change.
            app.Services.GetRequiredService<CastellanStartupValidator>().Validate();
            return await action(new AdminSession(app, storage)).ConfigureAwait(false);
        }
        catch (AdminException ex)
        {
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return OperatorErrors.ExitCode;
        }
        catch (Exception ex) when (OperatorErrors.Is(ex))
        {
            await error.WriteLineAsync(OperatorErrors.Describe(ex)).ConfigureAwait(false);
            return OperatorErrors.ExitCode;
        }
    }

    private static async Task PrepareAsync(CastellanDatabase database, HostStorage storage, CancellationToken cancellationToken)
    {
        if (storage.MigrateOnStartup)
        {
            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // Say what to do instead.
        if (await storage.LacksTablesAsync(database, cancellationToken).ConfigureAwait(false))
        {
            throw new AdminException($"The database ({storage.Describe()}) has no Castellan tables yet, or needs `migrate`, and Castellan:Storage:MigrateOnStartup is false: run `migrate` first.");
        }
    }

    public Task<ConfigurationSnapshot> LoadAsync(CancellationToken cancellationToken) => Store.LoadAsync(cancellationToken);

    /// <summary>
    /// Refuses a change that would leave the configuration invalid: <paramref name="after"/> is checked together with
    /// the configuration file, as the servers will check it. Problems that were there before the change (a
    /// configuration file edited since) do not block it, so the database can be repaired; they are returned.
    /// </summary>
    /// <exception cref="AdminException">The change adds problems; nothing is written.</exception>
    public IReadOnlyList<string> EnsureValid(ConfigurationSnapshot before, ConfigurationSnapshot after)
    {
        var existing = _rules.Check(InCode.With(before));
        var errors = _rules.Check(InCode.With(after));
        var added = errors.Except(existing, StringComparer.Ordinal).ToList();
        if (added.Count > 0)
        {
            throw new AdminException("Refused, nothing was written: the configuration would not be valid." + Environment.NewLine + Bullets(added));
        }

        return errors;
    }

    /// <summary>Says that problems from before a change remain: the servers keep their last valid configuration until they are fixed.</summary>
    public static void WarnRemaining(IReadOnlyList<string> remaining, TextWriter output)
    {
        if (remaining.Count > 0)
        {
            output.WriteLine("The configuration still has problems from before; running servers keep their last valid configuration until they are fixed:");
            output.WriteLine(Bullets(remaining));
        }
    }

    public static string Bullets(IEnumerable<string> lines) => string.Join(Environment.NewLine, lines.Select(l => "  - " + l));
}
