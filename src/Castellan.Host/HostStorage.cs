using Castellan.Storage.EntityFramework;
using Microsoft.Data.Sqlite;

namespace Castellan.Host;

/// <summary>
/// <c>Castellan:Storage</c> and <c>ConnectionStrings:Castellan</c>: which database the host keeps its state in. The
/// default is a SQLite file in the data folder (the parent of the key folder, <c>.castellan</c> by default),
/// created and migrated on first start with no set-up.
/// </summary>
internal sealed record HostStorage(HostStorageProvider Provider, string? ConnectionString, string? SqliteFolder, bool MigrateOnStartup, TimeSpan? CleanupInterval)
{
    /// <summary>The setting that chose <see cref="SqliteFolder"/>, for error messages.</summary>
    public string SqliteFolderSetting { get; init; } = $"ConnectionStrings:{ConnectionStringName}";

    /// <summary><c>Castellan:Storage:NotifyConfigurationChanges</c>: see <see cref="EntityFrameworkStoreOptions.NotifyConfigurationChanges"/>.</summary>
    public bool NotifyConfigurationChanges { get; init; } = true;

    /// <summary>Whether the Data Protection keys go to the database too (not when the operator gave them a folder of their own).</summary>
    public bool DataProtectionInDatabase { get; init; } = true;

    public const string ConnectionStringName = "Castellan";
    public const string DefaultSqliteFile = "castellan.db";

    public bool IsDatabase => Provider != HostStorageProvider.InMemory;

    public DatabaseProvider DatabaseProvider => Provider == HostStorageProvider.PostgreSql ? DatabaseProvider.PostgreSql : DatabaseProvider.Sqlite;

    /// <exception cref="CastellanConfigurationException">A provider without the connection it needs.</exception>
    public static HostStorage Resolve(IConfiguration configuration, string contentRoot, string keyPath)
    {
        var section = configuration.GetSection($"{HostConfiguration.SectionName}:Storage");
        HostSettings.StorageSettings settings = new();
        try
        {
            section.Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:Storage: {ex.InnerException?.Message ?? ex.Message} Provider is one of Sqlite, PostgreSql, InMemory."]);
        }

        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        switch (settings.Provider)
        {
            case HostStorageProvider.PostgreSql when string.IsNullOrWhiteSpace(connectionString):
                throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:Storage:Provider is PostgreSql but ConnectionStrings:{ConnectionStringName} is not set (e.g. \"Host=db.internal;Database=castellan;Username=castellan;Password=...\")."]);
            case HostStorageProvider.PostgreSql:
                return new HostStorage(settings.Provider, connectionString, null, settings.MigrateOnStartup, settings.CleanupInterval)
                {
                    NotifyConfigurationChanges = settings.NotifyConfigurationChanges,
                };
            case HostStorageProvider.Sqlite:
                string file;
                var setting = $"ConnectionStrings:{ConnectionStringName}";
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    setting = $"{HostConfiguration.SectionName}:KeyManagement:KeyPath";
                    // Beside the key folder: the data folder that already holds what must survive a restart.
                    file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyPath)) ?? contentRoot, DefaultSqliteFile);
                    connectionString = new SqliteConnectionStringBuilder { DataSource = file, Pooling = true }.ToString();
                }
                else
                {
                    // A relative file in the operator's connection string is the content root's, like the key folder.
                    var builder = new SqliteConnectionStringBuilder(connectionString);
                    if (!Path.IsPathRooted(builder.DataSource) && builder.DataSource != ":memory:")
                    {
                        builder.DataSource = Path.Combine(contentRoot, builder.DataSource);
                    }

                    file = builder.DataSource;
                    connectionString = builder.ToString();
                }

                return new HostStorage(settings.Provider, connectionString, Path.GetDirectoryName(file), settings.MigrateOnStartup, settings.CleanupInterval)
                {
                    SqliteFolderSetting = setting,
                    NotifyConfigurationChanges = settings.NotifyConfigurationChanges,
                };
            default:
                return new HostStorage(settings.Provider, null, null, false, null);
        }
    }

    public void AddTo(ICastellanBuilder castellan)
    {
        if (!IsDatabase)
        {
            return;
        }

        castellan.AddEntityFrameworkStores(store =>
        {
            store.Provider = DatabaseProvider;
            store.ConnectionString = ConnectionString!;
            store.MigrateOnStartup = MigrateOnStartup;
            store.StoreDataProtectionKeys = DataProtectionInDatabase;
            store.NotifyConfigurationChanges = NotifyConfigurationChanges;
            if (CleanupInterval is { } interval)
            {
                store.CleanupInterval = interval;
            }
        });
    }

    /// <summary>
    /// Whether the database has no Castellan tables yet (a SQLite file not created, or migrations pending), without
    /// creating anything: asking a SQLite file that does not exist for its migrations would create it empty.
    /// </summary>
    /// <exception cref="Castellan.Stores.StoreUnavailableException">The database cannot be reached.</exception>
    public async Task<bool> LacksTablesAsync(CastellanDatabase database, CancellationToken cancellationToken)
        => (SqliteFolder is not null && !File.Exists(new SqliteConnectionStringBuilder(ConnectionString).DataSource))
           || (await database.PendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).Count > 0;

    /// <summary>What the logs and commands call it, without the password.</summary>
    public string Describe() => Provider switch
    {
        HostStorageProvider.Sqlite => $"SQLite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}",
        HostStorageProvider.PostgreSql => $"PostgreSQL {DescribePostgres(ConnectionString!)}",
        _ => "memory (grants are lost on restart; keys in the key folder)",
    };

    private static string DescribePostgres(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
