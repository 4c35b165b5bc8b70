using System.Net;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// What the host does outside Development: it needs an issuer of its own and a configuration of its own, and it
/// never tells anyone a secret.
/// </summary>
public sealed class HostProductionTests
{
    private static async Task<string> ConfigFileAsync(TempDirectory root, string castellan)
    {
        var path = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(path, "{ \"Castellan\": " + castellan + " }");
        return path;
    }

    private const string OneClient = """
        "ApiScopes": [ { "Name": "api1" } ],
        "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ],
        "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret" } ],
                       "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ]
        """;

    [Fact]
    public async Task Production_without_issuer_uri_refuses_to_start_and_says_how_to_fix_it()
    {
        using var root = new TempDirectory();
        var config = await ConfigFileAsync(root, "{" + OneClient + "}");
        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.Args(root.Path, 0, "--config", config)));
        var error = Assert.Single(ex.Errors);
        Assert.Contains("Castellan:IssuerUri is required", error, StringComparison.Ordinal);
        Assert.Contains("AllowInferredIssuer", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_issuer_ignores_a_forged_host_header_and_needs_no_vary()
    {
        using var root = new TempDirectory();
        var config = await ConfigFileAsync(root, "{ \"IssuerUri\": \"https://login.example.com\", " + OneClient + "}");
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.Args(root.Path, 0, "--config", config)));
        using var http = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, ".well-known/openid-configuration");
        request.Headers.Host = "evil.example";
        using var response = await http.SendAsync(request);
        using var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://login.example.com", discovery.RootElement.GetProperty("issuer").GetString());
        Assert.Empty(response.Headers.Vary);
    }

    [Theory]
    [InlineData(".well-known/openid-configuration")]
    [InlineData(".well-known/openid-configuration/jwks")]
    public async Task Inferred_issuer_is_allowed_by_an_explicit_setting_and_metadata_varies_by_host(string path)
    {
        using var root = new TempDirectory();
        var config = await ConfigFileAsync(root, "{ \"AllowInferredIssuer\": true, " + OneClient + "}");
        var logs = new LogCollector();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.Args(root.Path, 0, "--config", config),
            b => b.Logging.AddProvider(logs)));
        using var http = host.CreateClient();
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Host", response.Headers.Vary);
        Assert.True(logs.Has("IssuerInferred"), "a warning says the issuer follows the Host header");
    }

    [Fact]
    public async Task Development_infers_the_issuer_and_varies_by_host()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path)));
        using var http = host.CreateClient();
        using var response = await http.GetAsync(".well-known/openid-configuration");
        Assert.Contains("Host", response.Headers.Vary);
    }

    [Fact]
    public void Production_with_nothing_configured_refuses_the_demo()
    {
        using var root = new TempDirectory();
        var ex = Assert.Throws<CastellanConfigurationException>(() =>
            CastellanHostApp.Build(TestApp.Args(root.Path, 0, "--Castellan:IssuerUri=https://login.example.com", "--Castellan:Storage:Provider=InMemory")));
        Assert.Contains(ex.Errors, e => e.Contains("no clients, scopes or resources", StringComparison.Ordinal) && e.Contains("Castellan:Demo=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Production_with_a_database_and_nothing_in_the_file_starts_without_the_demo()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.Args(root.Path, 0, "--Castellan:IssuerUri=https://login.example.com")));
        using var http = host.CreateClient();

        // The clients come from the database (the admin commands add them); the demo client is not there.
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "demo-client", ["client_secret"] = "demo-secret",
        }));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("--environment", "Development")]
    [InlineData("--Castellan:Demo=true", "--Castellan:IssuerUri=https://login.example.com")]
    public async Task Demo_runs_in_development_or_when_asked_for_and_never_logs_its_secret(string first, string second)
    {
        using var root = new TempDirectory();
        var logs = new LogCollector();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.Args(root.Path, 0, first, second, "--Logging:LogLevel:Default=Trace"),
            b => b.Logging.AddProvider(logs)));
        using var http = host.CreateClient();
        Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")));
        Assert.True(logs.Has("DemoConfiguration"));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("demo-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Key_folder_and_data_protection_folder_are_created_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var root = new TempDirectory();
        await using (var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--Castellan:Storage:Provider=InMemory"))))
        {
            using var http = host.CreateClient();
            Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")));
        }

        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var keys = Path.Combine(root.Path, ".castellan", "keys");
        Assert.Equal(ownerOnly, File.GetUnixFileMode(keys));
        Assert.Equal(ownerOnly, File.GetUnixFileMode(Path.Combine(keys, "dataprotection")));
        foreach (var file in Directory.GetFiles(keys, "*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task The_embedded_database_and_its_folder_are_created_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var root = new TempDirectory();
        await using (var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path))))
        {
            using var http = host.CreateClient();
            Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")));
        }

        var data = Path.Combine(root.Path, ".castellan");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        var files = Directory.GetFiles(data, "castellan.db*");
        Assert.Contains(files, f => f.EndsWith("castellan.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task Blank_secrets_in_the_file_are_named_errors_without_the_value()
    {
        using var root = new TempDirectory();
        var config = await ConfigFileAsync(root, """
        { "ApiScopes": [ { "Name": "api1" } ],
          "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "ApiSecrets": [ { "Value": "sha256:" } ] } ],
          "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "ok-but-short" }, { "Value": "   " } ],
                         "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ] }
        """);
        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));
        Assert.Contains(ex.Errors, e => e.StartsWith("Castellan:Clients:0:ClientSecrets:1:Value: the secret is empty", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("Castellan:ApiResources:0:ApiSecrets:0:Value: the secret is empty", StringComparison.Ordinal));
        Assert.DoesNotContain(ex.Errors, e => e.Contains("ok-but-short", StringComparison.Ordinal));
    }
}
