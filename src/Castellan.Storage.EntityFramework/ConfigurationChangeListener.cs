using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Tells this node's configuration snapshot when another process (an admin command, another node) changed the
/// stored configuration, so the change is read at once instead of at the next version check. On PostgreSQL a
/// connection of its own listens for the notification every configuration write sends at its commit; on SQLite,
/// whose writers share the machine, a connection kept open reads the version once a second. After a failure it
/// reconnects, waiting twice as long each time up to <see cref="LongestRetry"/>, and announces a change once back:
/// one made while it was away was announced to nobody.
/// </summary>
internal sealed partial class ConfigurationChangeListener(
    CastellanDatabase database,
    EntityFrameworkConfigurationStore store,
    TimeProvider time,
    ILogger<ConfigurationChangeListener> logger) : BackgroundService
{
    private const string ReadVersion = """SELECT "Version" FROM "ConfigurationState" WHERE "Id" = 1""";

    private static readonly TimeSpan SqlitePollInterval = TimeSpan.FromSeconds(1);

    // A connection dropped without a word (a network failure rather than a database restart) would leave WaitAsync
    // waiting forever: after this long without a notification, a probe finds out.
    private static readonly TimeSpan IdleProbeInterval = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await (database.Provider == DatabaseProvider.PostgreSql ? ListenAsync(Connected, stoppingToken) : PollAsync(Connected, stoppingToken)).ConfigureAwait(false);
                return;
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, retry.TotalSeconds, ex);
            }

            try
            {
                await Task.Delay(retry, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retry = retry * 2 < LongestRetry ? retry * 2 : LongestRetry;
        }

        void Connected()
        {
            retry = FirstRetry;
            LogConnected(logger, database.Provider);
            store.OnChanged();
        }
    }

    private async Task ListenAsync(Action connected, CancellationToken stoppingToken)
    {
        var settings = new NpgsqlConnectionStringBuilder(database.Options.ConnectionString)
        {
            // LISTEN lasts as long as the session: this connection is never shared, nor handed back to a pool that
            // would reset it.
            Pooling = false,
            Multiplexing = false,
            Enlist = false,
            CommandTimeout = database.Options.CommandTimeoutSeconds,
        };
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        connection.Notification += (_, _) => store.OnChanged();
        await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
        await using (var listen = new NpgsqlCommand("LISTEN " + EntityFrameworkConfigurationStore.ChangeChannel, connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
        }

        connected();
        await using var probe = new NpgsqlCommand("SELECT 1", connection);
        while (true)
        {
            if (!await connection.WaitAsync(IdleProbeInterval, stoppingToken).ConfigureAwait(false))
            {
                await probe.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task PollAsync(Action connected, CancellationToken stoppingToken)
    {
        var settings = new SqliteConnectionStringBuilder(database.Options.ConnectionString);
        if (settings.Mode == SqliteOpenMode.Memory || settings.DataSource is "" or ":memory:")
        {
            // A database in memory (or a temporary one) is this process's alone, and its writes announce themselves.
            return;
        }

        // Opening must not create the file: an empty one would hide a wrong path until the next start.
        settings.Mode = SqliteOpenMode.ReadWrite;
        settings.Pooling = false;
        await using var connection = new SqliteConnection(settings.ToString());
        await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
        await using var read = connection.CreateCommand();
        read.CommandText = ReadVersion;
        read.CommandTimeout = database.Options.CommandTimeoutSeconds;

        // One indexed row a second, on a connection of its own: nothing the token endpoint waits for.
        var seen = await read.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
        connected();
        while (true)
        {
            await Task.Delay(SqlitePollInterval, time, stoppingToken).ConfigureAwait(false);
            var version = await read.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
            if (!Equals(version, seen))
            {
                seen = version;
                store.OnChanged();
            }
        }
    }

    [LoggerMessage(33, LogLevel.Warning, "The database connection that announces configuration changes failed; trying again in {RetrySeconds} s. Meanwhile changes are read at the version check, once per ConfigurationCacheLifetime.", EventName = "ConfigurationListenerFailed")]
    private static partial void LogFailed(ILogger logger, double retrySeconds, Exception exception);

    [LoggerMessage(34, LogLevel.Information, "Following configuration changes in the {Provider} database as they are made.", EventName = "ConfigurationListenerConnected")]
    private static partial void LogConnected(ILogger logger, DatabaseProvider provider);
}
