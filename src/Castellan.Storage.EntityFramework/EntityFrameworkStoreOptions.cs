namespace Castellan.Storage.EntityFramework;

public enum DatabaseProvider
{
    /// <summary>One file, one node: the embedded default.</summary>
    Sqlite,

    /// <summary>A server several nodes share.</summary>
    PostgreSql,
}

/// <summary>Where Castellan keeps its state, and which parts of it go to the database.</summary>
public sealed class EntityFrameworkStoreOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>An ADO.NET connection string for <see cref="Provider"/>, e.g. <c>Data Source=castellan.db</c> or <c>Host=db;Database=castellan;Username=castellan;Password=...</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Apply the shipped migrations when the application starts. Safe with several nodes starting at once (the
    /// migrator takes a database lock). Default: false; run <c>migrate</c> (or <see cref="CastellanDatabase.MigrateAsync"/>) yourself.
    /// </summary>
    public bool MigrateOnStartup { get; set; }

    /// <summary>Read clients, API scopes, API resources and identity resources from the database, beside those in code. Default: true.</summary>
    public bool StoreConfiguration { get; set; } = true;

    /// <summary>
    /// With <see cref="StoreConfiguration"/>: read a configuration change as soon as any process writes it to the
    /// database (an admin command, another node), rather than at the next version check, once per
    /// <see cref="CastellanOptions.ConfigurationCacheLifetime"/>, which stays as the fallback. On PostgreSQL each node
    /// keeps one connection of its own open, listening for the notification every configuration write sends; turn this
    /// off when connections go through a pooler in transaction mode (PgBouncer's), which cannot keep a LISTEN. On SQLite
    /// the node reads the version once a second on one connection it keeps open. Default: true.
    /// </summary>
    public bool NotifyConfigurationChanges { get; set; } = true;

    /// <summary>Keep codes, refresh tokens, reference tokens and consents in the database. Default: true.</summary>
    public bool StoreGrants { get; set; } = true;

    /// <summary>
    /// Keep the single sign-on sessions in the database (server-side sessions): the cookie then holds only a key, every
    /// node reads the same sessions, and logout ends the session for good. Default: true.
    /// </summary>
    public bool StoreSessions { get; set; } = true;

    /// <summary>
    /// Keep back-channel logout deliveries in the database until delivered: a logout's notifications outlive the node
    /// that accepted it, and any node delivers them. Default: true.
    /// </summary>
    public bool StoreBackChannelLogouts { get; set; } = true;

    /// <summary>Keep the automatically managed signing keys in the database, so every node signs with the same ones. Default: true.</summary>
    public bool StoreSigningKeys { get; set; } = true;

    /// <summary>Keep the ASP.NET Core Data Protection key ring in the database, so every node reads the others' cookies and keys. Default: true.</summary>
    public bool StoreDataProtectionKeys { get; set; } = true;

    /// <summary>
    /// Record one-time values (the <c>jti</c> of DPoP proofs and of client assertions) in the database, in place of
    /// the per-process replay cache: one value is accepted once across every node sharing the database, and across
    /// restarts. Each check is one atomic insert-if-absent, so two nodes that receive the same proof at the same
    /// moment cannot both accept it (the distributed-cache replay cache cannot promise that). Costs one write per DPoP
    /// request and per client assertion. Default: true.
    /// </summary>
    public bool StoreReplayCache { get; set; } = true;

    /// <summary>Remove expired grants, sessions and replay entries in the background. Default: true.</summary>
    public bool EnableCleanup { get; set; } = true;

    /// <summary>How often cleanup runs (each node adds up to a tenth at random, so nodes do not run in step). Default: 5 minutes.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many grants one cleanup statement removes at most; a run repeats until fewer are left. Default: 500.</summary>
    public int CleanupBatchSize { get; set; } = 500;

    /// <summary>
    /// SQLite only: write the write-ahead log to disk at every commit (<c>PRAGMA synchronous=FULL</c>). Default:
    /// false (<c>NORMAL</c>, what SQLite recommends with write-ahead logging): a commit survives the process being
    /// killed, and the file is never corrupted, but the last commits before a power loss or an operating-system crash
    /// may be lost (grants issued just before it are then unknown, and a code or refresh token consumed just before
    /// it can be presented once more). <c>true</c> survives those as well, at the cost of one disk flush per grant
    /// written, one writer at a time: a few thousand grants a second at best on a fast disk.
    /// </summary>
    public bool SqliteFullSync { get; set; }

    /// <summary>How long a command may take before the store reports itself unavailable. Default: 15 seconds.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary><see cref="CommandTimeout"/> as ADO.NET takes it: whole seconds, rounded up.</summary>
    internal int CommandTimeoutSeconds => (int)Math.Ceiling(CommandTimeout.TotalSeconds);
}
