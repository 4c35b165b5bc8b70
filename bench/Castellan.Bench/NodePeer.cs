using System.Diagnostics;
using System.Globalization;

namespace Castellan.Bench;

/// <summary>
/// The node-oidc-provider peer (<c>bench/node-peer</c>): started with Node.js in production mode, its packages
/// installed from the committed lock file on first use.
/// </summary>
internal static class NodePeer
{
    public const string Variant = "node-oidc-provider";

    /// <summary>Its refresh grant (rotating) and its code redemption, on grants seeded through its own models.</summary>
    public const string RefreshVariant = "node-refresh";
    public const string CodeVariant = "node-code";

    public static bool IsNode(string variant) => variant is Variant or RefreshVariant or CodeVariant;

    public static ProcessStartInfo StartInfo(int port, string keyPem)
    {
        var folder = FindFolder();
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            Install(folder);
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = folder };
        // Only makes gc() callable, so the seeding's garbage is collected before the measured run.
        info.ArgumentList.Add("--expose-gc");
        info.ArgumentList.Add("server.mjs");
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(keyPem);
        info.Environment["NODE_ENV"] = "production";
        return info;
    }

    private static void Install(string folder)
    {
        Console.Error.WriteLine($"  [{Variant}] installing its packages (npm ci) ...");
        using var npm = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("npm could not be started; install Node.js and npm.");
        var errors = npm.StandardError.ReadToEndAsync();
        npm.StandardOutput.ReadToEnd();
        npm.WaitForExit();
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci failed in bench/node-peer: {errors.Result}");
        }
    }

    /// <summary>bench/node-peer, found from the build output upwards, so any working directory works.</summary>
    private static string FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "bench", "node-peer");
            if (File.Exists(Path.Combine(candidate, "server.mjs")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("bench/node-peer/server.mjs was not found above the benchmark's build output.");
    }
}
