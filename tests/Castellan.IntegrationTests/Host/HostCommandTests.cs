using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>The host's operator commands: check-config, new-secret, hash-secret.</summary>
public sealed class HostCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new StringReader(stdin);
        // Commands that build the server get the Development environment, as the host tests do, unless a test chooses.
        if (args[0] is "check-config" or "keys" && !args.Contains("--environment"))
        {
            args = [.. args, "--environment", "Development"];
        }

        var code = await HostCommands.RunAsync(args, output, error, input);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Check_config_accepts_a_valid_file_without_starting_or_creating_keys()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, """
        {
          "Castellan": {
            "ApiScopes": [ { "Name": "orders.read" } ],
            "ApiResources": [ { "Name": "orders", "Scopes": [ "orders.read" ] } ],
            "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "s" } ],
                           "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "orders.read" ] } ]
          }
        }
        """);

        var (code, output, error) = await RunAsync("", "check-config", "--contentRoot", root.Path, "--config", config);

        Assert.True(code == 0, error);
        Assert.Contains("valid: 1 clients, 1 API scopes, 1 API resources", output, StringComparison.Ordinal);
        Assert.DoesNotContain("DEMO", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan")));
    }

    [Theory]
    [InlineData("""{ "Castellan": { "Clients": [ { "ClientId": "c", "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "nope" ] } ] } }""", "nope")]
    [InlineData("""{ "Castellan": { "Clients": [ { "ClientId": "c", "AllowedGrantType": [ "client_credentials" ] } ] } }""", "AllowedGrantType")]
    [InlineData("""{ "Castellan": """, "not valid JSON")]
    public async Task Check_config_names_the_problem_and_exits_with_2(string json, string expected)
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, json);

        var (code, _, error) = await RunAsync("", "check-config", "--contentRoot", root.Path, "--config", config);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_config_reports_invalid_options_given_on_the_command_line()
    {
        using var root = new TempDirectory();
        var (code, _, error) = await RunAsync("", "check-config", "--contentRoot", root.Path, "--Castellan:KeyManagement:SigningAlgorithms:0=none");
        Assert.Equal(2, code);
        Assert.Contains("'none' is not supported", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_secret_prints_a_random_hex_secret_and_its_configuration_hash()
    {
        var (code, output, _) = await RunAsync("", "new-secret");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var secret = lines.Single(l => l.StartsWith("secret: ", StringComparison.Ordinal))["secret: ".Length..];
        var config = lines.Single(l => l.StartsWith("config: ", StringComparison.Ordinal))["config: ".Length..];
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.Equal("sha256:" + Secret.Hash(secret), config);
        Assert.Equal(Secret.Hash(secret), Secret.NormalizeConfiguredValue(config));

        Assert.NotEqual(secret, (await RunAsync("", "new-secret")).Output.Split('\n')[0]["secret: ".Length..].Trim());
        Assert.Equal(2, (await RunAsync("", "new-secret", "--bytes", "8")).ExitCode);
    }

    [Fact]
    public async Task Hash_secret_reads_the_argument_or_standard_input()
    {
        Assert.Equal("sha256:" + Secret.Hash("s3cret"), (await RunAsync("", "hash-secret", "s3cret")).Output.Trim());
        Assert.Equal("sha256:" + Secret.Hash("from stdin"), (await RunAsync("from stdin\n", "hash-secret")).Output.Trim());
        Assert.Equal(2, (await RunAsync("", "hash-secret")).ExitCode);
    }

    [Fact]
    public async Task Keys_lists_the_key_the_server_created_with_its_lifecycle_without_changing_anything()
    {
        using var root = new TempDirectory();
        var (_, before, _) = await RunAsync("", "keys", "--contentRoot", root.Path);
        Assert.Contains("No signing keys yet", before, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan", "keys")) &&
                     Directory.GetFiles(Path.Combine(root.Path, ".castellan", "keys"), "castellan-key-*").Length > 0);

        string kid;
        await using (var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path))))
        {
            using var http = host.CreateClient();
            kid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")).Kid;
        }

        var (code, output, error) = await RunAsync("", "keys", "--contentRoot", root.Path);
        Assert.True(code == 0, error);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith(kid, StringComparison.Ordinal));
        Assert.Contains("RS256", line, StringComparison.Ordinal);
        Assert.Contains("signing", line, StringComparison.Ordinal);
        // The key is in the embedded database, not in a key folder.
        Assert.True(File.Exists(Path.Combine(root.Path, ".castellan", "castellan.db")));
        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan", "keys")));
    }

    [Fact]
    public async Task Keys_rotate_adds_an_announced_successor_that_the_server_publishes_but_does_not_sign_with_yet()
    {
        using var root = new TempDirectory();
        var port = TestApp.FreePort();
        string first;
        await using (var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port))))
        {
            using var http = host.CreateClient();
            first = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")).Kid;
        }

        var (code, output, error) = await RunAsync("", "keys", "rotate", "--contentRoot", root.Path);
        Assert.True(code == 0, error);
        Assert.Contains("announced", output, StringComparison.Ordinal);

        await using var restarted = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port)));
        using var again = restarted.CreateClient();
        var kids = (await TestTokens.GetJwksAsync(again)).Keys.Select(k => k.Kid).ToList();
        Assert.Equal(2, kids.Count);
        var successor = Assert.Single(kids, k => k != first);
        Assert.Contains($"key {successor}", output, StringComparison.Ordinal);
        Assert.Equal(first, new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await TestTokens.GetAccessTokenAsync(again, "demo-client", "demo-secret")).Kid);

        Assert.Equal(2, (await RunAsync("", "keys", "rotate", "--algorithm", "HS256", "--contentRoot", root.Path)).ExitCode);
    }

    [Fact]
    public async Task Keys_delete_needs_confirmation_and_a_known_kid_and_the_server_then_signs_with_a_new_key()
    {
        using var root = new TempDirectory();
        var port = TestApp.FreePort();
        string compromised;
        await using (var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port))))
        {
            using var http = host.CreateClient();
            compromised = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret")).Kid;
        }

        Assert.Equal(2, (await RunAsync("", "keys", "delete", compromised, "--contentRoot", root.Path)).ExitCode);
        Assert.Equal(2, (await RunAsync("", "keys", "delete", "no-such-kid", "--yes", "--contentRoot", root.Path)).ExitCode);
        var (code, _, error) = await RunAsync("", "keys", "delete", compromised, "--yes", "--contentRoot", root.Path);
        Assert.True(code == 0, error);

        await using var restarted = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port)));
        using var again = restarted.CreateClient();
        var jwks = await TestTokens.GetJwksAsync(again);
        Assert.DoesNotContain(jwks.Keys, k => k.Kid == compromised);
        var kid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await TestTokens.GetAccessTokenAsync(again, "demo-client", "demo-secret")).Kid;
        Assert.NotEqual(compromised, kid);
        Assert.Contains(jwks.Keys, k => k.Kid == kid);
    }

    [Fact]
    public async Task Keys_says_when_a_static_key_is_configured()
    {
        using var root = new TempDirectory();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        await File.WriteAllTextAsync(Path.Combine(root.Path, "signing.pem"), rsa.ExportPkcs8PrivateKeyPem());
        var (code, output, _) = await RunAsync("", "keys", "--contentRoot", root.Path, "--Castellan:SigningKey:Path=signing.pem");
        Assert.Equal(0, code);
        Assert.Contains("Static signing keys", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Anything_else_is_not_a_command_and_runs_the_server()
    {
        Assert.False(HostCommands.IsCommand([]));
        Assert.False(HostCommands.IsCommand(["--config", "x.json"]));
        Assert.True(HostCommands.IsCommand(["check-config", "--config", "x.json"]));
    }
}
