using Castellan.Keys;
using Castellan.Security;
using Castellan.Sessions;
using Castellan.Stores;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Castellan.Storage.EntityFramework;

public static class EntityFrameworkStoreExtensions
{
    /// <summary>The tag of the database's health check (it also carries <see cref="CastellanHealthChecksExtensions.ReadyTag"/>).</summary>
    public const string DatabaseTag = "database";

    /// <summary>
    /// Keeps Castellan's state in a database: configuration, grants, signing keys and Data Protection keys (each
    /// can be left out in <paramref name="configure"/>). SQLite by default; PostgreSQL for several nodes.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddCastellan(o => o.IssuerUri = "https://login.example.com")
    ///     .AddEntityFrameworkStores(store =>
    ///     {
    ///         store.Provider = DatabaseProvider.PostgreSql;
    ///         store.ConnectionString = builder.Configuration.GetConnectionString("Castellan")!;
    ///         store.MigrateOnStartup = true;
    ///     });
    /// </code>
    /// </example>
    public static ICastellanBuilder AddEntityFrameworkStores(this ICastellanBuilder builder, Action<EntityFrameworkStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new EntityFrameworkStoreOptions();
        configure(options);
        var services = builder.Services;
        AddDatabase(services, options);
        services.AddSingleton<Leases>();
        services.AddSingleton<EntityFrameworkConfigurationStore>();
        if (options.StoreConfiguration)
        {
            builder.AddConfigurationSource<EntityFrameworkConfigurationStore>();
            if (options.NotifyConfigurationChanges)
            {
                services.AddHostedService<ConfigurationChangeListener>();
            }
        }

        if (options.StoreGrants)
        {
            services.TryAddSingleton<GrantQueue>();
            services.AddSingleton<EntityFrameworkGrantStore>();
            services.AddSingleton<IPersistedGrantStore>(sp => sp.GetRequiredService<EntityFrameworkGrantStore>());
        }

        if (options.StoreReplayCache)
        {
            // Replaces the in-memory cache AddCastellan registered; a later UseDistributedCache() would replace this.
            services.TryAddSingleton<GrantQueue>();
            services.AddSingleton<EntityFrameworkReplayCache>();
            services.Replace(ServiceDescriptor.Singleton<IReplayCache>(sp => sp.GetRequiredService<EntityFrameworkReplayCache>()));
        }

        if (options.EnableCleanup && (options.StoreGrants || options.StoreReplayCache))
        {
            services.AddHostedService(GrantCleanup.Create);
        }

        if (options.StoreBackChannelLogouts)
        {
            services.AddSingleton<IBackChannelLogoutStore, EntityFrameworkBackChannelLogoutStore>();
        }

        if (options.StoreSessions)
        {
            services.AddSingleton<EntityFrameworkTicketStore>();
            services.AddOptions<CookieAuthenticationOptions>(CastellanSessionDefaults.AuthenticationScheme)
                .Configure<EntityFrameworkTicketStore>((cookie, store) => cookie.SessionStore = store);
        }

        if (options.StoreSigningKeys)
        {
            services.AddSingleton<ISigningKeyStore, EntityFrameworkSigningKeyStore>();
        }

        return builder;
    }

    /// <summary>
    /// Keeps the one-time values of <c>Castellan.Security</c>'s replay cache (DPoP proof and client assertion
    /// <c>jti</c>s) in the database's <c>ReplayEntries</c> table, for an API cluster that must accept each proof once
    /// across its nodes, also when two receive it at the same moment (the <see cref="IDistributedCache"/> of
    /// <c>UseDistributedCache()</c> reads, then writes, and cannot promise that). One atomic insert per proof, in
    /// group-committed batches; expired entries are removed in the background. The token server does not need this:
    /// <see cref="AddEntityFrameworkStores"/> already does it (<see cref="EntityFrameworkStoreOptions.StoreReplayCache"/>).
    /// </summary>
    /// <remarks>
    /// The database has Castellan's schema: the token server's own database, or one of the API's with
    /// <see cref="EntityFrameworkStoreOptions.MigrateOnStartup"/>. With <see cref="EntityFrameworkStoreOptions.StoreDataProtectionKeys"/>
    /// (the default) the API nodes share their Data Protection key ring there too, which their DPoP nonces need to be
    /// valid on every node. Of the options, the provider, connection, timeout, migration, key ring and cleanup ones apply.
    /// </remarks>
    /// <example>
    /// <code>
    /// builder.Services.AddAuthentication().AddCastellanApi(o => { o.Authority = "https://login.example.com"; o.Audiences = ["invoices"]; });
    /// builder.Services.AddCastellanReplayCache().UseDatabase(store =>
    /// {
    ///     store.Provider = DatabaseProvider.PostgreSql;
    ///     store.ConnectionString = builder.Configuration.GetConnectionString("Replay")!;
    ///     store.MigrateOnStartup = true;
    /// });
    /// </code>
    /// </example>
    public static CastellanReplayCacheBuilder UseDatabase(this CastellanReplayCacheBuilder builder, Action<EntityFrameworkStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new EntityFrameworkStoreOptions();
        configure(options);

        // Only the replay cache: nothing else of the server's is kept here.
        options.StoreGrants = false;
        options.StoreReplayCache = true;
        var services = builder.Services;
        AddDatabase(services, options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrantQueue>();
        services.TryAddSingleton<EntityFrameworkReplayCache>();
        services.Replace(ServiceDescriptor.Singleton<IReplayCache>(sp => sp.GetRequiredService<EntityFrameworkReplayCache>()));
        if (options.EnableCleanup)
        {
            services.AddHostedService(GrantCleanup.Create);
        }

        return builder;
    }

    /// <summary>The database itself: its context factory, <see cref="CastellanDatabase"/>, its health check, the Data Protection key ring and the migration at startup, as configured.</summary>
    private static void AddDatabase(IServiceCollection services, EntityFrameworkStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("EntityFrameworkStoreOptions.ConnectionString is empty.", nameof(options));
        }

        var timeout = options.CommandTimeoutSeconds;
        switch (options.Provider)
        {
            case DatabaseProvider.PostgreSql:
                services.AddPooledDbContextFactory<PostgreSqlCastellanDbContext>(db => db.UseNpgsql(options.ConnectionString, npgsql => npgsql.CommandTimeout(timeout)));
                services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<PostgreSqlCastellanDbContext>>().CreateDbContext());
                if (options.StoreDataProtectionKeys)
                {
                    services.AddDataProtection().PersistKeysToDbContext<PostgreSqlCastellanDbContext>();
                }

                break;
            default:
                services.AddPooledDbContextFactory<SqliteCastellanDbContext>(db => db.UseSqlite(options.ConnectionString, sqlite => sqlite.CommandTimeout(timeout))
                    .AddInterceptors(new SqliteConnectionSettings(options.SqliteFullSync)));
                services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<SqliteCastellanDbContext>>().CreateDbContext());
                if (options.StoreDataProtectionKeys)
                {
                    services.AddDataProtection().PersistKeysToDbContext<SqliteCastellanDbContext>();
                }

                break;
        }

        services.AddSingleton(sp => CastellanDatabase.Create(sp, options));
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("castellan-database", tags: [CastellanHealthChecksExtensions.ReadyTag, DatabaseTag]);
        if (options.MigrateOnStartup)
        {
            // Before Castellan's own startup, which reads keys and configuration from the tables this creates.
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService, MigrateOnStartup>());
        }
    }

    private sealed class MigrateOnStartup(CastellanDatabase database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => database.MigrateAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// Removes expired grants, sessions and replay entries in bounded batches, on every node: each batch is one statement
/// that skips rows another node is removing, so nodes running it together neither deadlock nor wait on each other.
/// </summary>
internal sealed partial class GrantCleanup(
    EntityFrameworkGrantStore? grants,
    EntityFrameworkReplayCache? replays,
    CastellanDatabase database,
    TimeProvider time,
    ILogger<GrantCleanup> logger) : BackgroundService
{
    /// <summary>The cleanup of what the store keeps (grants, replay entries, or both; sessions always).</summary>
    public static GrantCleanup Create(IServiceProvider services)
    {
        var database = services.GetRequiredService<CastellanDatabase>();
        return new GrantCleanup(
            database.Options.StoreGrants ? services.GetRequiredService<EntityFrameworkGrantStore>() : null,
            database.Options.StoreReplayCache ? services.GetRequiredService<EntityFrameworkReplayCache>() : null,
            database,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<GrantCleanup>>());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = database.Options.CleanupInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Up to a tenth more at random, so nodes started together drift apart.
            var delay = interval + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * interval.TotalMilliseconds / 10);
            try
            {
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StoreUnavailableException)
            {
                LogFailed(logger, ex);
            }
        }
    }

    /// <returns>How many grants were removed.</returns>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var batch = database.Options.CleanupBatchSize;
        var total = 0;
        if (grants is not null)
        {
            total += await DrainAsync(now => grants.RemoveExpiredAsync(now, batch, cancellationToken)).ConfigureAwait(false);
        }

        if (replays is not null)
        {
            total += await DrainAsync(now => replays.RemoveExpiredAsync(now, batch, cancellationToken)).ConfigureAwait(false);
        }

        // Expired sessions too, in the same bounded batches.
        var cutoff = time.GetUtcNow().UtcDateTime;
        total += await DrainAsync(_ => database.WriteAsync(db => db.ServerSideSessions
            .Where(s => db.ServerSideSessions.Where(e => e.Expires <= cutoff).OrderBy(e => e.Expires).Take(batch).Select(e => e.Key).Contains(s.Key))
            .ExecuteDeleteAsync(cancellationToken), cancellationToken)).ConfigureAwait(false);

        if (total > 0)
        {
            LogRemoved(logger, total);
        }

        return total;

        // One bounded batch after another, until a batch comes back short.
        async Task<int> DrainAsync(Func<DateTimeOffset, Task<int>> removeBatch)
        {
            var drained = 0;
            int removed;
            do
            {
                removed = await removeBatch(time.GetUtcNow()).ConfigureAwait(false);
                drained += removed;
            }
            while (removed == batch && !cancellationToken.IsCancellationRequested);

            return drained;
        }
    }

    [LoggerMessage(8000, LogLevel.Information, "Removed {Count} expired grants, sessions and replay entries.", EventName = "GrantCleanup")]
    private static partial void LogRemoved(ILogger logger, int count);

    [LoggerMessage(8001, LogLevel.Warning, "Grant cleanup could not reach the database; it runs again at the next interval.", EventName = "GrantCleanupFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
