using System.Diagnostics;
using System.Globalization;
using Castellan.IntegrationTests.Storage;
using Castellan.Storage.EntityFramework;

namespace Castellan.Bench;

/// <summary>Where a database variant keeps its state: the provider and the connection string its child server gets.</summary>
internal sealed record BenchStorage(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>The provider a variant's name asks for (<c>-sqlite</c>, <c>-pg</c>), or null for a variant in memory.</summary>
    public static DatabaseProvider? ProviderOf(string variant)
        => variant.EndsWith("-sqlite", StringComparison.Ordinal) ? DatabaseProvider.Sqlite
            : variant.EndsWith("-pg", StringComparison.Ordinal) ? DatabaseProvider.PostgreSql
            : null;
}

/// <summary>
/// The databases of one run, one empty database per variant: SQLite files in the run's work folder, and databases
/// on a throwaway PostgreSQL cluster (the store tests' <see cref="PostgresServer"/>) started on first use and stopped
/// with the run. A cluster that cannot start fails the PostgreSQL variants, not the run.
/// </summary>
internal sealed class BenchDatabases(string work) : IAsyncDisposable
{
    private PostgresServer? _postgres;
    private string? _postgresFailure;

    /// <summary>A fresh database for <paramref name="variant"/>, or null when it keeps its state in memory.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL could not start here (the message says why).</exception>
    public async Task<BenchStorage?> ForAsync(string variant)
    {
        switch (BenchStorage.ProviderOf(variant))
        {
            case DatabaseProvider.Sqlite:
                return new BenchStorage(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(work, variant + ".db")}");
            case DatabaseProvider.PostgreSql:
                var postgres = await PostgresAsync();
                return new BenchStorage(DatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync(variant.Replace('-', '_')));
            default:
                return null;
        }
    }

    /// <summary>
    /// The CPU time so far of the PostgreSQL cluster: the postmaster and the processes it started (a backend per
    /// connection of the child's pool, the background writers). Linux only, like the cluster itself.
    /// </summary>
    public TimeSpan PostgresCpu()
    {
        var pidFile = Path.Combine(_postgres?.DataDirectory ?? throw new InvalidOperationException("PostgreSQL is not running."), "postmaster.pid");
        var postmaster = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        var total = TimeSpan.Zero;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var pid) && (pid == postmaster || ParentOf(pid) == postmaster))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    total += process.TotalProcessorTime;
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // It exited in between.
                }
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    private async Task<PostgresServer> PostgresAsync()
    {
        if (_postgres is not null)
        {
            return _postgres;
        }

        // Tried once: the other PostgreSQL variants report the same failure without waiting for initdb again.
        if (_postgresFailure is null)
        {
            try
            {
                var server = new PostgresServer();
                await server.InitializeAsync();
                return _postgres = server;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                _postgresFailure = "PostgreSQL could not start: " + ex.Message.Split('\n')[0];
                Console.Error.WriteLine("  " + ex.Message);
            }
        }

        throw new InvalidOperationException(_postgresFailure);
    }

    /// <summary>The parent's process ID from <c>/proc/&lt;pid&gt;/stat</c> (the field after the state, after the parenthesised name), or -1.</summary>
    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
