using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1, started for one test and stopped with it.</summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, string baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>, without a trailing slash.</summary>
    public string BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="baseAddress">The address tests call, for an app that listens on more than one (else its only one).</param>
    public static async Task<TestApp> StartAsync(WebApplication app, string? baseAddress = null)
    {
        await app.StartAsync();
        var address = (baseAddress ?? app.Urls.Single()).TrimEnd('/');
        return new TestApp(app, address);
    }

    public HttpClient CreateClient() => new() { BaseAddress = new Uri(BaseAddress + "/") };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// Command-line arguments for <c>WebApplication.CreateBuilder</c>: an empty temporary content root (so no
    /// appsettings.json of the samples is picked up), a loopback URL, and quiet logs.
    /// </summary>
    public static string[] Args(string contentRoot, int port = 0, params string[] extra)
        =>
        [
            "--contentRoot", contentRoot,
            "--urls", $"http://127.0.0.1:{port}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
            .. extra,
        ];

    /// <summary>
    /// <see cref="Args"/> for the ready-to-run host, in the Development environment, where it may serve the demo
    /// configuration and take its issuer from the request. Tests of Production behaviour pass their own arguments.
    /// </summary>
    public static string[] HostArgs(string contentRoot, int port = 0, params string[] extra)
        => Args(contentRoot, port, ["--environment", "Development", .. extra]);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A temporary folder deleted with the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "castellan-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
