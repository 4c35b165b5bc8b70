using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// A throwaway PostgreSQL cluster: <c>initdb</c> into a fresh temp folder, then <c>pg_ctl start</c> on a free
/// 127.0.0.1 port with durability turned off (fsync, synchronous commit and full-page writes), and <c>pg_ctl stop -m
/// immediate</c> and the folder deleted on <see cref="DisposeAsync"/>. It never uses a system cluster (Debian's
/// package runs one on 5432). Callers get an empty database of their own from <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// The superuser is <c>castellan</c> with trust authentication: acceptable only because the cluster listens on
/// loopback, lives for one run and holds test data. <c>initdb</c> refuses to run as root, so as root the folder is
/// given to the <c>postgres</c> user and the tools run through <c>runuser</c>.
/// </para>
/// <para>
/// No test framework here: the store tests use it through their xunit fixture (<c>PostgresCluster</c>), and
/// the benchmark compiles this file in for its PostgreSQL variants.
/// </para>
/// </remarks>
internal sealed class PostgresServer : IAsyncDisposable
{
    private const string Superuser = "castellan";
    private const string SystemUser = "postgres";
    private const string FolderPrefix = "castellan-pg-";

    // pg_ctl's own wait (-t) is shorter, so its message, not ours, says what went wrong.
    private const int PgCtlWaitSeconds = 60;
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(PgCtlWaitSeconds + 30);

    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly string _initdb;
    private readonly string _pgCtl;
    private readonly bool _asRoot = Environment.IsPrivilegedProcess;
    private string? _root;

    /// <exception cref="InvalidOperationException">The server binaries are not installed: says how to install them.</exception>
    public PostgresServer()
    {
        var bin = FindBinFolder();
        _initdb = Path.Combine(bin, "initdb");
        _pgCtl = Path.Combine(bin, "pg_ctl");
    }

    /// <summary>The loopback TCP port; it stays the same across <see cref="StopAsync"/> and <see cref="StartAsync"/>.</summary>
    public int Port { get; private set; }

    /// <summary>The cluster's data directory, as the server reports it in <c>SHOW data_directory</c>.</summary>
    public string DataDirectory => Path.Combine(Root, "data");

    private string Root => _root ?? throw new InvalidOperationException("The cluster has not been initialized.");

    private string SocketDirectory => Path.Combine(Root, "socket");

    private string LogFile => Path.Combine(Root, "server.log");

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
        Pooling = true,
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>Creates an empty database with a unique name (starting with <paramref name="prefix"/>) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default)
    {
        var name = DatabaseName(prefix);
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        // The name is built from [a-z0-9_] only, so quoting it is enough.
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionString(name);
    }

    /// <summary>Stops the server (<c>pg_ctl stop -m fast</c>) and clears Npgsql's pools; the data is kept.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            var result = await RunToolAsync(_pgCtl, ["-D", DataDirectory, "-w", "-t", $"{PgCtlWaitSeconds}", "-m", "fast", "stop"]);
            EnsureSucceeded("pg_ctl stop", result);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            _lifecycle.Release();
        }
    }

    /// <summary>Starts the stopped server again on the same <see cref="Port"/>.</summary>
    public async Task StartAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            EnsureSucceeded("pg_ctl start", await StartServerAsync());
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Creates the cluster and starts it; on failure nothing is left behind.</summary>
    public async Task InitializeAsync()
    {
        await RemoveOrphanedClustersAsync();

        // The process ID in the name lets a later run tell this folder is orphaned if this process dies without
        // disposing the server. CreateTempSubdirectory makes it 0700, and short enough for the socket path limit.
        _root = Directory.CreateTempSubdirectory($"{FolderPrefix}{Environment.ProcessId}-").FullName;
        try
        {
            Directory.CreateDirectory(SocketDirectory);
            if (_asRoot)
            {
                EnsureSucceeded("chown", await RunAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", Root]));
                var reach = await RunAsync("runuser", ["-u", SystemUser, "--", "test", "-w", Root]);
                if (reach.ExitCode != 0)
                {
                    throw new InvalidOperationException(
                        $"The '{SystemUser}' user cannot write to {Root}: every folder above it must be searchable by that user " +
                        $"(the temp folder is {Path.GetTempPath()}; point TMPDIR at a world-searchable folder). {reach}");
                }
            }

            var initdb = await RunToolAsync(
                _initdb, ["-D", DataDirectory, "-A", "trust", "-U", Superuser, "--encoding", "UTF8", "--locale", "C", "--no-sync"]);
            EnsureSucceeded("initdb", initdb);

            Port = FreePort();
            var start = await StartServerAsync();
            // Another process may take the free port between the probe and the server's bind: try once more.
            if (start.ExitCode != 0 && PortWasTaken(LogTail()))
            {
                Port = FreePort();
                start = await StartServerAsync();
            }

            EnsureSucceeded("pg_ctl start", start);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_root is null)
        {
            return;
        }

        await StopImmediatelyAsync(DataDirectory);
        NpgsqlConnection.ClearAllPools();
        TryDelete(_root);
        _root = null;
    }

    private Task<ToolResult> StartServerAsync()
    {
        // pg_ctl hands -o to a shell, so the socket folder is quoted.
        var options = $"-p {Port} -k '{SocketDirectory}' -c listen_addresses=127.0.0.1 -c fsync=off " +
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
        return RunToolAsync(_pgCtl, ["-D", DataDirectory, "-l", LogFile, "-w", "-t", $"{PgCtlWaitSeconds}", "-o", options, "start"]);
    }

    /// <summary>Best effort, never throws: <c>pg_ctl stop -m immediate</c>, then kills the postmaster's tree if it is still there.</summary>
    private async Task StopImmediatelyAsync(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        try
        {
            await RunToolAsync(_pgCtl, ["-D", dataDirectory, "-w", "-t", $"{PgCtlWaitSeconds}", "-m", "immediate", "stop"]);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
        }

        try
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
            {
                using var postmaster = Process.GetProcessById(pid);
                if (postmaster.ProcessName == "postgres")
                {
                    postmaster.Kill(entireProcessTree: true);
                    using var timeout = new CancellationTokenSource(ToolTimeout);
                    await postmaster.WaitForExitAsync(timeout.Token);
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or
            OperationCanceledException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// Stops and deletes the clusters of earlier runs whose process died without disposing them (a killed test
    /// host, an interrupted benchmark): the folder name holds that process's ID, and the folder is orphaned if no
    /// process has it now, or the one that has it started after the folder was made (the ID was reused).
    /// </summary>
    private async Task RemoveOrphanedClustersAsync()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var name = Path.GetFileName(folder).AsSpan(FolderPrefix.Length);
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            bool orphaned;
            try
            {
                using var owner = Process.GetProcessById(pid);
                // Generous slack: start times are only precise to about a second.
                orphaned = owner.StartTime.ToUniversalTime() > Directory.GetCreationTimeUtc(folder).AddSeconds(5);
            }
            catch (ArgumentException)
            {
                orphaned = true;
            }
            catch (InvalidOperationException)
            {
                orphaned = true;
            }

            if (orphaned)
            {
                await StopImmediatelyAsync(Path.Combine(folder, "data"));
                TryDelete(folder);
            }
        }
    }

    private Task<ToolResult> RunToolAsync(string tool, IReadOnlyList<string> arguments) =>
        _asRoot ? RunAsync("runuser", ["-u", SystemUser, "--", tool, .. arguments]) : RunAsync(tool, arguments);

    private async Task<ToolResult> RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            // The postgres user can enter this folder (after the chown); it may not be able to enter the caller's.
            WorkingDirectory = _root is not null && Directory.Exists(_root) ? _root : Path.GetTempPath(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The caller's PGDATA, PGPORT, PGHOST... must not choose for the tools.
        foreach (var variable in info.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(variable);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} did not finish within {ToolTimeout.TotalSeconds} s. " +
                new ToolResult(-1, await output, await error) + LogSection());
        }

        return new ToolResult(process.ExitCode, await output, await error);
    }

    private void EnsureSucceeded(string what, ToolResult result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {result.ExitCode}. {result}{LogSection()}");
        }
    }

    private string LogSection() => _root is not null && File.Exists(LogFile) ? $"\n--- server log (tail) ---\n{LogTail()}" : "";

    private string LogTail()
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - 4096), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static bool PortWasTaken(string log) =>
        log.Contains("could not bind", StringComparison.Ordinal) || log.Contains("already in use", StringComparison.Ordinal);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string DatabaseName(string? prefix)
    {
        var name = new StringBuilder();
        foreach (var c in (prefix ?? "test").AsSpan(0, Math.Min((prefix ?? "test").Length, 40)))
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        // Well under PostgreSQL's 63-byte identifier limit.
        return name.Append('_').Append(Guid.NewGuid().ToString("N").AsSpan(0, 16)).ToString();
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The first PATH folder with both <c>initdb</c> and <c>pg_ctl</c>, else the highest
    /// <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> (Debian's layout, which keeps them off PATH).
    /// </summary>
    /// <exception cref="InvalidOperationException">There is none: says how to install them.</exception>
    private static string FindBinFolder()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Folder: Path.Combine(d, "bin"), Version: ParseVersion(Path.GetFileName(d))))
                .Where(v => v.Version is not null)
                .OrderByDescending(v => v.Version)
                .Select(v => v.Folder)
            : [];
        foreach (var folder in path.Concat(debian))
        {
            if (IsExecutable(Path.Combine(folder, "initdb")) && IsExecutable(Path.Combine(folder, "pg_ctl")))
            {
                return folder;
            }
        }

        throw new InvalidOperationException(
            "A throwaway PostgreSQL cluster (the store tests, the benchmark's PostgreSQL variants) needs the PostgreSQL server binaries (initdb and pg_ctl), " +
            "found neither on PATH nor in /usr/lib/postgresql/<version>/bin. Install the distribution's package " +
            "(Debian: `apt-get install -y postgresql`); .ci/run does so.");
    }

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version) ? version : null;

    // This drives Unix tools (runuser, chown, a shell behind pg_ctl -o), so Windows has none to find.
    private static bool IsExecutable(string file) =>
        !OperatingSystem.IsWindows() && File.Exists(file) && (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private sealed record ToolResult(int ExitCode, string Output, string Error)
    {
        public override string ToString() =>
            (Output.Length > 0 ? $"\n--- stdout ---\n{Output.TrimEnd()}" : "") + (Error.Length > 0 ? $"\n--- stderr ---\n{Error.TrimEnd()}" : "");
    }
}
