using System.Diagnostics;
using System.Globalization;

namespace Castellan.Bench;

/// <summary>
/// The ready-to-run host exactly as users run it: <c>dotnet publish</c> output, started with
/// <c>dotnet Castellan.Host.dll --config castellan.json</c> from another working folder, in Production, with
/// automatic keys (created at first start, encrypted at rest) and the shipped logging configuration.
/// </summary>
internal static class PublishedHost
{
    public const string Variant = "host-published";

    private static string? _folder;

    /// <summary>Publishes the host (Release) once per run into <paramref name="work"/>.</summary>
    public static async Task PublishAsync(string work)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Castellan.slnx")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Castellan.slnx not found above the benchmark: run it from a checkout.");
        }

        var output = Path.Combine(work, "published-host");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "publish", Path.Combine(root.FullName, "src", "Castellan.Host", "Castellan.Host.csproj"), "-c", "Release", "-o", output, "--nologo" })
        {
            info.ArgumentList.Add(arg);
        }

        Console.WriteLine("Publishing src/Castellan.Host (Release) for the host-published variant...");
        using var publish = Process.Start(info)!;
        var log = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException("dotnet publish failed: " + log);
        }

        _folder = output;
    }

    /// <summary>A start of the published host on <paramref name="port"/>, in a fresh working folder with its own config file.</summary>
    public static ProcessStartInfo StartInfo(int port)
    {
        var folder = _folder ?? throw new InvalidOperationException("The host was not published.");
        var working = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(folder)!, "host-run-" + port.ToString(CultureInfo.InvariantCulture))).FullName;
        // The benchmark's client and API, as an operator would write them; no signing key: keys are automatic.
        File.WriteAllText(Path.Combine(working, "castellan.json"), $$"""
            {
              "Castellan": {
                "IssuerUri": "http://127.0.0.1:{{port}}",
                "KeyManagement": { "KeyPath": "{{Path.Combine(working, "keys")}}" },
                "ApiScopes": [ { "Name": "{{BenchSetup.Scope}}" } ],
                "ApiResources": [ { "Name": "{{BenchSetup.Audience}}", "Scopes": [ "{{BenchSetup.Scope}}" ] } ],
                "Clients": [ { "ClientId": "{{BenchSetup.ClientId}}", "ClientSecrets": [ { "Value": "{{BenchSetup.ClientSecret}}" } ],
                               "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "{{BenchSetup.Scope}}" ] } ]
              }
            }
            """);
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = working };
        foreach (var arg in new[] { Path.Combine(folder, "Castellan.Host.dll"), "--config", "castellan.json", "--urls", $"http://127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        return info;
    }
}
