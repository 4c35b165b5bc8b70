using System.Diagnostics;
using System.Text;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>
/// The ready-to-run host as users start it: <c>dotnet Castellan.Host.dll</c> in its own process, from a working
/// folder of the test's choosing, with the host's own build output (its shipped appsettings.json beside it).
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private HostProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The host's build output folder: <c>src/Castellan.Host/bin/&lt;configuration&gt;/net10.0</c> of this checkout.</summary>
    public static string HostFolder { get; } = FindHostFolder();

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public static HostProcess Start(string workingDirectory, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(HostFolder, "Castellan.Host.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The test run's own environment must not choose for the host.
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        info.Environment.Remove("ASPNETCORE_CONTENTROOT");
        info.Environment.Remove("ASPNETCORE_URLS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var host = new HostProcess(process);
        process.OutputDataReceived += (_, e) => Append(host._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(host._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Runs the host to its end (a command, or a start that fails) and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string workingDirectory, params string[] args)
    {
        await using var host = Start(workingDirectory, args);
        var code = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, host.Output, host.Error);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        // The asynchronous readers finish after the process does; this waits for them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the host answers on <paramref name="baseAddress"/> (or has exited, which fails the test).</summary>
    public async Task WaitUntilListeningAsync(string baseAddress)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            Assert.False(_process.HasExited, $"the host exited with {(_process.HasExited ? _process.ExitCode : 0)}: {Error}{Output}");
            try
            {
                using var response = await http.GetAsync(baseAddress + "/health");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
            catch (TaskCanceledException)
            {
            }
        }

        Assert.Fail("the host did not start listening: " + Error + Output);
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: no shutdown, no flushing.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    private static string FindHostFolder()
    {
        // This test assembly runs from tests/Castellan.IntegrationTests/bin/<configuration>/<tfm>/.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Castellan.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var folder = Path.Combine(root.FullName, "src", "Castellan.Host", "bin", configuration, framework);
        Assert.True(File.Exists(Path.Combine(folder, "Castellan.Host.dll")), $"the host is not built in {folder}");
        return folder;
    }
}
