using Castellan.Storage.EntityFramework;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// A Castellan service provider on a fresh, migrated database, as an application registers it: the stores under
/// test come from it, not from their constructors.
/// </summary>
internal sealed class StoreFactory : IAsyncDisposable
{
    private readonly string? _sqliteFolder;

    private StoreFactory(ServiceProvider services, string connectionString, string? sqliteFolder)
    {
        Services = services;
        ConnectionString = connectionString;
        _sqliteFolder = sqliteFolder;
    }

    public ServiceProvider Services { get; }

    public CastellanDatabase Database => Services.GetRequiredService<CastellanDatabase>();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <param name="batch">The cleanup's batch size (<see cref="EntityFrameworkStoreOptions.CleanupBatchSize"/>).</param>
    public static async Task<StoreFactory> SqliteAsync(Action<IServiceCollection>? configure = null, int? batch = null)
    {
        var folder = Directory.CreateTempSubdirectory("castellan-sqlite-").FullName;
        var connectionString = $"Data Source={Path.Combine(folder, "castellan.db")}";
        var factory = new StoreFactory(Build(DatabaseProvider.Sqlite, connectionString, configure, batch), connectionString, folder);
        await factory.Database.MigrateAsync(CancellationToken.None);
        return factory;
    }

    public static async Task<StoreFactory> PostgreSqlAsync(PostgresCluster cluster, Action<IServiceCollection>? configure = null, int? batch = null)
    {
        var connectionString = await cluster.CreateDatabaseAsync("store");
        return await OnAsync(DatabaseProvider.PostgreSql, connectionString, configure, batch);
    }

    /// <summary>Another provider (another node) on an existing database.</summary>
    public static async Task<StoreFactory> OnAsync(DatabaseProvider provider, string connectionString, Action<IServiceCollection>? configure = null, int? batch = null)
    {
        var factory = new StoreFactory(Build(provider, connectionString, configure, batch), connectionString, null);
        await factory.Database.MigrateAsync(CancellationToken.None);
        return factory;
    }

    public static ServiceProvider Build(DatabaseProvider provider, string connectionString, Action<IServiceCollection>? configure, int? batch = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddCastellan().AddEntityFrameworkStores(store =>
        {
            store.Provider = provider;
            store.ConnectionString = connectionString;
            store.EnableCleanup = false;
            store.CleanupBatchSize = batch ?? store.CleanupBatchSize;
        });
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    public string ConnectionString { get; }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_sqliteFolder is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_sqliteFolder, recursive: true);
        }
    }
}
