using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Packaging;

/// <summary>
/// <c>dotnet pack Castellan.slnx</c> makes exactly the four library packages (and their symbol packages), each with the
/// metadata a feed shows: id, description, license, readme, tags, and the assembly itself. The engine and the API
/// package depend on <c>Castellan.Security</c> as a package, not by carrying its assembly.
/// </summary>
public sealed class PackageTests
{
    private static readonly string[] PackageIds = ["Castellan", "Castellan.ApiProtection", "Castellan.Security", "Castellan.Storage.EntityFramework"];
    private static readonly string[] DependOnSecurity = ["Castellan", "Castellan.ApiProtection"];
    private static readonly string[] RequiredTags = ["oauth2", "openid-connect", "oidc", "jwt", "aspnetcore", "token-server"];

    /// <summary>Generous: the pack itself takes seconds, but the machine may be busy building or testing.</summary>
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Pack_makes_exactly_the_four_library_packages_with_their_metadata()
    {
        var root = FindRepositoryRoot();
        var version = VersionPrefix(root);
        using var output = new TempDirectory();

        // --no-build: the test run has built this configuration already, and building again here would race it.
        var configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        await PackAsync(root, configuration, output.Path);

        var files = Directory.GetFiles(output.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var expected = PackageIds.SelectMany(id => new[] { $"{id}.{version}.nupkg", $"{id}.{version}.snupkg" })
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, files);

        foreach (var id in PackageIds)
        {
            AssertPackage(Path.Combine(output.Path, $"{id}.{version}.nupkg"), id, version);
            AssertSymbolPackage(Path.Combine(output.Path, $"{id}.{version}.snupkg"), id);
        }

        foreach (var id in DependOnSecurity)
        {
            using var package = ZipFile.OpenRead(Path.Combine(output.Path, $"{id}.{version}.nupkg"));
            var metadata = ReadNuspec(package, id);
            var dependencies = metadata.Descendants(metadata.GetDefaultNamespace() + "dependency")
                .Select(d => (Id: d.Attribute("id")?.Value, Version: d.Attribute("version")?.Value));
            Assert.Contains(("Castellan.Security", version), dependencies);
        }
    }

    private static void AssertPackage(string path, string id, string version)
    {
        using var package = ZipFile.OpenRead(path);
        var metadata = ReadNuspec(package, id);
        var ns = metadata.GetDefaultNamespace();

        Assert.Equal(id, metadata.Element(ns + "id")?.Value);
        Assert.Equal(version, metadata.Element(ns + "version")?.Value);
        Assert.Equal("The Castellan Authors", metadata.Element(ns + "authors")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value), $"{id}: no description");

        var license = metadata.Element(ns + "license");
        Assert.Equal("expression", license?.Attribute("type")?.Value);
        Assert.Equal("Apache-2.0", license?.Value);

        var readme = metadata.Element(ns + "readme")?.Value;
        Assert.False(string.IsNullOrEmpty(readme), $"{id}: no readme in the nuspec");
        var readmeEntry = package.GetEntry(readme!);
        Assert.True(readmeEntry is { Length: > 0 }, $"{id}: the readme '{readme}' is not in the package");

        var tags = (metadata.Element(ns + "tags")?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var tag in RequiredTags)
        {
            Assert.Contains(tag, tags);
        }

        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.dll"));
        // Only the library and its metadata: no host, sample or test assembly rides along.
        Assert.DoesNotContain(package.Entries, e => e.FullName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                                                    && e.FullName != $"lib/net10.0/{id}.dll");
    }

    private static void AssertSymbolPackage(string path, string id)
    {
        using var package = ZipFile.OpenRead(path);
        var metadata = ReadNuspec(package, id);
        Assert.Equal(id, metadata.Element(metadata.GetDefaultNamespace() + "id")?.Value);
        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.pdb"));
    }

    /// <summary>The nuspec's <c>metadata</c> element.</summary>
    private static XElement ReadNuspec(ZipArchive package, string id)
    {
        var entry = package.GetEntry($"{id}.nuspec");
        Assert.True(entry is not null, $"{id}: no {id}.nuspec in the package");
        using var stream = entry!.Open();
        var document = XDocument.Load(stream);
        var metadata = document.Root?.Element(document.Root.GetDefaultNamespace() + "metadata");
        Assert.True(metadata is not null, $"{id}: the nuspec has no metadata element");
        return metadata!;
    }

    private static async Task PackAsync(string root, string configuration, string output)
    {
        var start = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "pack", "Castellan.slnx", "--no-build", "-c", configuration, "-o", output, "--nologo",
                     "--disable-build-servers", "-p:NuGetAudit=false",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // The test host may inherit MSBuild's variables from `dotnet test`; the child pack must find its own.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(PackTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"dotnet pack did not finish within {PackTimeout}.\n{await stdout}\n{await stderr}");
        }

        Assert.True(process.ExitCode == 0,
            $"dotnet {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}.\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
    }

    /// <summary>The dotnet that runs this test (the SDK's host), else the one on the PATH.</summary>
    private static string DotnetExecutable()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? current
            : "dotnet";
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Castellan.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Castellan.slnx in {AppContext.BaseDirectory} or any folder above it.");
    }

    /// <summary>The one version of every package, from Directory.Build.props.</summary>
    private static string VersionPrefix(string root)
    {
        var props = XDocument.Load(Path.Combine(root, "Directory.Build.props"));
        var versions = props.Descendants("VersionPrefix").Select(e => e.Value).ToList();
        Assert.True(versions.Count == 1, "Directory.Build.props should set VersionPrefix exactly once.");
        return versions[0];
    }
}
