using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Castellan.Stores;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Opens contexts for the configured provider and turns the database's failures into
/// <see cref="StoreUnavailableException"/>, which the endpoints answer with 503. Also applies the migrations.
/// </summary>
public sealed class CastellanDatabase
{
    private readonly Func<CastellanDbContext> _create;

    // SQLite lets one connection write at a time, and Microsoft.Data.Sqlite answers a writer that finds the database
    // busy by blocking its thread for 150 ms before it tries again: under load most writes would wait for nothing.
    // This process's writers take turns here instead (other processes on the file still meet the busy retry).
    private readonly SemaphoreSlim? _sqliteWriter;

    internal CastellanDatabase(EntityFrameworkStoreOptions options, Func<CastellanDbContext> create)
    {
        Options = options;
        _create = create;
        _sqliteWriter = options.Provider == DatabaseProvider.Sqlite ? new SemaphoreSlim(1, 1) : null;
    }

    public EntityFrameworkStoreOptions Options { get; }

    public DatabaseProvider Provider => Options.Provider;

    /// <summary>A new context; the caller disposes it.</summary>
    public CastellanDbContext CreateContext() => _create();

    /// <summary>
    /// Creates the database if needed and applies the shipped migrations. Several processes may call this at once:
    /// one migrates and the others wait, then find it done.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached.</exception>
    public Task MigrateAsync(CancellationToken cancellationToken)
        => RunAsync(async db =>
        {
            if (Provider == DatabaseProvider.Sqlite)
            {
                PrepareSqliteFile(db.Database.GetConnectionString());
                await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await MigratePostgreSqlAsync(db, cancellationToken).ConfigureAwait(false);
            }

            if (Provider == DatabaseProvider.Sqlite)
            {
                // Write-ahead logging lets readers go on while one connection writes; it is a property of the file, so
                // setting it once is enough.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);

    // Npgsql's migrator locks the history table inside each migration's own transaction, so between two migrations
    // another node can take the lock, apply the next one, and leave this node to apply it again ("relation already
    // exists"). A session-level advisory lock held on the migrator's connection for the whole run serialises the
    // nodes: the second reads the history only after the first has applied everything.
    private const string MigrationLock = "hashtextextended('castellan-migrations', 0)";

    private static async Task MigratePostgreSqlAsync(CastellanDbContext db, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await creator.CreateAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // Another node created it first.
            }
        }

        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock(" + MigrationLock + ")", cancellationToken).ConfigureAwait(false);
            try
            {
                await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock(" + MigrationLock + ")", CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Migrations shipped but not applied to this database.</summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached.</exception>
    public Task<IReadOnlyList<string>> PendingMigrationsAsync(CancellationToken cancellationToken)
        => RunAsync<IReadOnlyList<string>>(async db => (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToArray(), cancellationToken);

    /// <summary>Migrations applied to this database.</summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached.</exception>
    public Task<IReadOnlyList<string>> AppliedMigrationsAsync(CancellationToken cancellationToken)
        => RunAsync<IReadOnlyList<string>>(async db => (await db.Database.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToArray(), cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a new context, with the database's failures reported as <see cref="StoreUnavailableException"/>.</summary>
    /// <param name="operation">For the metrics: the store method (the caller's name by default).</param>
    internal Task<T> RunAsync<T>(Func<CastellanDbContext, Task<T>> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => MeasureAsync(OnNewContext(work), cancellationToken, operation);

    private Func<Task<T>> OnNewContext<T>(Func<CastellanDbContext, Task<T>> work) => async () =>
    {
        await using var db = _create();
        return await work(db).ConfigureAwait(false);
    };

    /// <summary>
    /// Runs <paramref name="work"/>, which reaches the database its own way, with the same failure reporting and
    /// metrics as <see cref="RunAsync{T}(Func{CastellanDbContext, Task{T}}, CancellationToken, string)"/>, and, on
    /// SQLite, as one of this process's writers.
    /// </summary>
    internal async Task<T> WriteOwnAsync<T>(Func<Task<T>> work, string operation, CancellationToken cancellationToken)
    {
        if (_sqliteWriter is null)
        {
            return await MeasureAsync(work, cancellationToken, operation).ConfigureAwait(false);
        }

        await _sqliteWriter.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await MeasureAsync(work, cancellationToken, operation).ConfigureAwait(false);
        }
        finally
        {
            _sqliteWriter.Release();
        }
    }

    private static async Task<T> MeasureAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken, string operation)
    {
        var started = Stopwatch.GetTimestamp();
        var result = "ok";
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            result = "unavailable";

            // One sentence: an operator's hint may follow it (the host's OperatorErrors).
            var reason = ex.GetBaseException().Message.TrimEnd();
            throw new StoreUnavailableException("The database is unavailable: " + reason + (reason.EndsWith('.') ? "" : "."), ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result = "error";
            throw;
        }
        finally
        {
            var tags = new TagList { { "operation", operation }, { "result", result } };
            StoreTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
            if (result != "ok")
            {
                StoreTelemetry.Failures.Add(1, tags);
            }
        }
    }

    /// <summary>
    /// <see cref="RunAsync{T}(Func{CastellanDbContext, Task{T}}, CancellationToken, string)"/> for work that writes:
    /// on SQLite it waits for this process's other writers first.
    /// </summary>
    internal Task<T> WriteAsync<T>(Func<CastellanDbContext, Task<T>> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => WriteOwnAsync(OnNewContext(work), operation, cancellationToken);

    internal Task WriteAsync(Func<CastellanDbContext, Task> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => WriteAsync<bool>(async db =>
        {
            await work(db).ConfigureAwait(false);
            return true;
        }, cancellationToken, operation);

    internal Task RunAsync(Func<CastellanDbContext, Task> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => RunAsync<bool>(async db =>
        {
            await work(db).ConfigureAwait(false);
            return true;
        }, cancellationToken, operation);

    /// <summary>Whether the exception means the database could not do the work now (down, unreachable, busy, timed out), rather than a bug.</summary>
    internal static bool IsUnavailable(Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                return true;
            }
        }

        // Npgsql reports a server that went away mid-command, and EF a connection it could not open, as
        // InvalidOperationException around the provider's exception, handled above; a bare one is a bug.
        return false;
    }

    /// <summary>Whether an insert failed only because the key exists (from <c>SaveChanges</c>, the provider's exception inside).</summary>
    internal static bool IsDuplicateKey(DbUpdateException exception) => exception.InnerException is DbException inner && IsDuplicateKey(inner);

    /// <summary>Whether a statement failed only because the key exists.</summary>
    internal static bool IsDuplicateKey(DbException exception)
        => exception switch
        {
            PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
            SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067,
            _ => false,
        };

    private static void PrepareSqliteFile(string? connectionString)
    {
        // SQLite creates the file but not its folder.
        var file = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (!string.IsNullOrEmpty(file) && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder && !Directory.Exists(folder))
        {
            // The file holds signing keys and the Data Protection keys that decrypt them: a new folder is the owner's alone.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        // SQLite would create the file with the process's default mode; its WAL and shared-memory files take the
        // file's mode, so creating it owner-only here keeps all three private.
        if (!string.IsNullOrEmpty(file) && file != ":memory:" && !File.Exists(file) && !OperatingSystem.IsWindows())
        {
            try
            {
                using var created = new FileStream(file, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (File.Exists(file))
            {
                // Another node or process created it first.
            }
        }
    }

    internal static CastellanDatabase Create(IServiceProvider services, EntityFrameworkStoreOptions options)
        => options.Provider switch
        {
            DatabaseProvider.PostgreSql => new CastellanDatabase(options, services.GetRequiredService<IDbContextFactory<PostgreSqlCastellanDbContext>>().CreateDbContext),
            _ => new CastellanDatabase(options, services.GetRequiredService<IDbContextFactory<SqliteCastellanDbContext>>().CreateDbContext),
        };
}
