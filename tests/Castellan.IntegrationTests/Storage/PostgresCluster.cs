namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// The store tests' throwaway PostgreSQL cluster (a <see cref="PostgresServer"/>), one per test run, shared by the
/// tests of the <see cref="Collection"/> collection. Missing server binaries fail the tests (CI installs them)
/// rather than skipping them.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    public const string Collection = "postgres";

    private readonly PostgresServer _server = new();

    /// <summary>The loopback TCP port; it stays the same across <see cref="StopAsync"/> and <see cref="StartAsync"/>.</summary>
    public int Port => _server.Port;

    /// <summary>The cluster's data directory, as the server reports it in <c>SHOW data_directory</c>.</summary>
    public string DataDirectory => _server.DataDirectory;

    public string ConnectionString(string database) => _server.ConnectionString(database);

    /// <summary>Creates an empty database with a unique name (starting with <paramref name="prefix"/>) and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default)
        => _server.CreateDatabaseAsync(prefix, cancellationToken);

    /// <summary>Stops the server (<c>pg_ctl stop -m fast</c>) and clears Npgsql's pools; the data is kept.</summary>
    public Task StopAsync() => _server.StopAsync();

    /// <summary>Starts the stopped server again on the same <see cref="Port"/>.</summary>
    public Task StartAsync() => _server.StartAsync();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();
}

[CollectionDefinition(PostgresCluster.Collection)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresCluster>;
