using Castellan.Storage.EntityFramework;
using Microsoft.EntityFrameworkCore;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// Migrations on PostgreSQL as nodes meet them: a database that does not exist yet, and several nodes migrating one
/// database at the same moment (the advisory lock makes them take turns, so none applies a migration twice).
/// </summary>
[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlMigrationTests(PostgresCluster cluster)
{
    [Fact]
    public async Task Migrating_creates_a_database_that_does_not_exist_and_applies_every_migration()
    {
        var connectionString = cluster.ConnectionString("castellan_new_" + Guid.NewGuid().ToString("N")[..12]);
        await using var node = await StoreFactory.OnAsync(DatabaseProvider.PostgreSql, connectionString);

        Assert.Empty(await node.Database.PendingMigrationsAsync(default));
        await using var db = node.Database.CreateContext();
        Assert.Equal(0, await db.ReplayEntries.CountAsync());
    }

    [Fact]
    public async Task Four_nodes_migrating_an_empty_database_at_once_all_succeed()
    {
        var connectionString = await cluster.CreateDatabaseAsync("migrate_race");
        var services = Enumerable.Range(0, 4).Select(_ => StoreFactory.Build(DatabaseProvider.PostgreSql, connectionString, null)).ToArray();
        try
        {
            using var start = new SemaphoreSlim(0);
            var migrations = services.Select(s => Task.Run(async () =>
            {
                await start.WaitAsync();
                await ((CastellanDatabase)s.GetService(typeof(CastellanDatabase))!).MigrateAsync(default);
            })).ToArray();
            start.Release(services.Length);
            await Task.WhenAll(migrations);

            var database = (CastellanDatabase)services[0].GetService(typeof(CastellanDatabase))!;
            Assert.Empty(await database.PendingMigrationsAsync(default));
            await using var db = database.CreateContext();
            Assert.Equal(db.Database.GetMigrations(), await database.AppliedMigrationsAsync(default));
        }
        finally
        {
            foreach (var provider in services)
            {
                await provider.DisposeAsync();
            }
        }
    }
}
