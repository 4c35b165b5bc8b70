using Npgsql;

namespace Castellan.IntegrationTests.Storage;

[Collection(PostgresCluster.Collection)]
public sealed class PostgresClusterTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Each_created_database_is_empty_and_separate_on_the_fixtures_own_cluster()
    {
        var first = await cluster.CreateDatabaseAsync("cluster_first");
        var second = await cluster.CreateDatabaseAsync("cluster_second");
        Assert.NotEqual(first, second);

        await using var a = await OpenAsync(first);
        await using var b = await OpenAsync(second);
        Assert.StartsWith("PostgreSQL ", (string?)await ScalarAsync(a, "SELECT version()"), StringComparison.Ordinal);
        // The fixture's cluster, not a system one such as the cluster Debian's package runs on 5432.
        Assert.Equal(cluster.DataDirectory, await ScalarAsync(b, "SHOW data_directory"));
        Assert.Equal(0L, await ScalarAsync(b, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));

        await ExecuteAsync(a, "CREATE TABLE probe (id int PRIMARY KEY)");

        Assert.Equal(1L, await ScalarAsync(a, "SELECT count(*) FROM pg_tables WHERE tablename = 'probe'"));
        Assert.Equal(0L, await ScalarAsync(b, "SELECT count(*) FROM pg_tables WHERE tablename = 'probe'"));
    }

    [Fact]
    public async Task Stopped_cluster_refuses_connections_and_starts_again_on_its_port_with_its_data()
    {
        var database = await cluster.CreateDatabaseAsync("cluster_restart");
        await using (var connection = await OpenAsync(database))
        {
            await ExecuteAsync(connection, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('written before the stop')");
        }

        var port = cluster.Port;
        await cluster.StopAsync();
        try
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenAsync(database));
        }
        finally
        {
            // The other tests of the collection share the cluster.
            await cluster.StartAsync();
        }

        Assert.Equal(port, cluster.Port);
        await using var reopened = await OpenAsync(database);
        Assert.Equal("written before the stop", await ScalarAsync(reopened, "SELECT value FROM kept"));
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
