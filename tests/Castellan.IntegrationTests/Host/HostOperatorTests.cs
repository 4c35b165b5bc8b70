using System.Net;
using System.Net.Sockets;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// The published host as operators run it (<c>dotnet Castellan.Host.dll</c>, in its own process, from another
/// working folder): its shipped defaults apply, its mistakes are one line and exit code 2.
/// </summary>
public sealed class HostOperatorTests
{
    private const string OneClient = """
        { "Castellan": {
            "ApiScopes": [ { "Name": "api1" } ],
            "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ],
            "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret" } ],
                           "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ] } }
        """;

    [Fact]
    public async Task Version_prints_the_version_and_exits()
    {
        using var root = new TempDirectory();
        var (code, output, error) = await HostProcess.RunAsync(root.Path, "--version");
        Assert.True(code == 0, error);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Fact]
    public async Task Relative_config_path_is_resolved_against_the_working_folder()
    {
        using var root = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(root.Path, "castellan.json"), OneClient);
        var (code, output, error) = await HostProcess.RunAsync(root.Path, "check-config", "--config", "castellan.json",
            "--Castellan:IssuerUri=https://login.example.com");
        Assert.True(code == 0, error);
        Assert.Contains("valid: 1 clients", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_in_use_is_one_line_with_the_urls_hint_and_exit_code_2()
    {
        using var root = new TempDirectory();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, _, error) = await HostProcess.RunAsync(root.Path, "--environment", "Development", "--urls", $"http://127.0.0.1:{port}",
            $"--Castellan:KeyManagement:KeyPath={Path.Combine(root.Path, "keys")}");
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("--urls", line, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unusable_key_folder_names_the_setting_and_the_operation()
    {
        using var root = new TempDirectory();
        var file = Path.Combine(root.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "");
        var (code, _, error) = await HostProcess.RunAsync(root.Path, "--environment", "Development", "--urls", "http://127.0.0.1:0",
            $"--Castellan:KeyManagement:KeyPath={Path.Combine(file, "keys")}");
        Assert.Equal(2, code);
        Assert.Contains("Castellan:KeyManagement:KeyPath", error, StringComparison.Ordinal);
        Assert.Contains("could not be created", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_from_another_folder_the_shipped_defaults_apply()
    {
        using var root = new TempDirectory();
        var port = TestApp.FreePort();
        await using var host = HostProcess.Start(root.Path, ["--environment", "Development", "--urls", $"http://127.0.0.1:{port}",
            $"--Castellan:KeyManagement:KeyPath={Path.Combine(root.Path, "keys")}"]);
        await host.WaitUntilListeningAsync($"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        for (var i = 0; i < 3; i++)
        {
            Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")));
        }

        // The content root is the application's folder, so appsettings.json beside the dll was read: its
        // "Microsoft.AspNetCore": "Warning" keeps per-request lines out of the log.
        Assert.Contains("Content root path: " + HostProcess.HostFolder, host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request finished", host.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan")), "nothing is written to the working folder");
    }
}
