using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// The admin commands (clients, scopes, resources, identity-resources, grants, config) against the host's default
/// SQLite database in a temporary content root, checked through a started host.
/// </summary>
public sealed class AdminCommandTests : IDisposable
{
    private const string ApiSecret = "api1-introspection-secret";
    private const string FileClientSecret = "file-client-secret-value";
    private const string Password = "alice-long-password";

    /// <summary>The server's configuration file: one API, the openid scope, a client and a user of its own.</summary>
    private const string ConfigFile = $$"""
    {
      "Castellan": {
        "ApiScopes": [ { "Name": "api1" } ],
        "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "ApiSecrets": [ { "Value": "{{ApiSecret}}" } ] } ],
        "IdentityResources": [ { "Name": "openid", "UserClaims": [ "sub" ], "Required": true } ],
        "Clients": [ { "ClientId": "file-client", "ClientSecrets": [ { "Value": "{{FileClientSecret}}" } ],
                       "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ],
        "TestUsers": [ { "SubjectId": "alice-id", "Username": "alice", "Password": "{{Password}}" } ]
      }
    }
    """;

    private readonly TempDirectory _root = new();
    private readonly string _config;

    public AdminCommandTests()
    {
        _config = Path.Combine(_root.Path, "castellan.json");
        File.WriteAllText(_config, ConfigFile);
    }

    public void Dispose() => _root.Dispose();

    /// <summary>The server's arguments for this test's content root and configuration file.</summary>
    private string[] Server(string? root = null) => ["--contentRoot", root ?? _root.Path, "--config", _config, "--environment", "Development"];

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string stdin = "")
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new StringReader(stdin);
        var code = await HostCommands.RunAsync(args, output, error, input);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs a command that must succeed, with this test's server arguments.</summary>
    private async Task<string> OkAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync([.. args, .. Server()]);
        Assert.True(code == 0, $"exit {code}: {error}{output}");
        return output;
    }

    /// <summary>Runs a command that must fail as an operator mistake (exit code 2), and returns its message.</summary>
    private async Task<string> RefusedAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync([.. args, .. Server()]);
        Assert.True(code == 2, $"exit {code}: {error}{output}");
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        return error;
    }

    private Task<TestApp> StartHostAsync(string? root = null)
        => TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root ?? _root.Path, 0, "--config", _config, "--Castellan:ConfigurationCacheLifetime=00:00:01")));

    private static string PrintedSecret(string output)
        => Assert.Single(output.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith("secret: ", StringComparison.Ordinal))["secret: ".Length..];

    private async Task<string> AddClientAsync(string clientId, params string[] options)
        => PrintedSecret(await OkAsync(["clients", "add", "--client-id", clientId, "--grant-types", "client_credentials", "--scopes", "api1", .. options]));

    /// <summary>Asks until <paramref name="condition"/> holds: a running host sees a change within its cache lifetime (1 s here).</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Not seen within 15 s: " + what);
            await Task.Delay(200);
        }
    }

    private static async Task<JsonElement> TokenResponseAsync(HttpClient http, string clientId, string secret, string? scope = null)
    {
        using var response = await TestTokens.RequestAsync(http, clientId, secret, scope);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    private static async Task<bool> IsActiveAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("api1", ApiSecret));
        request.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token });
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    [Fact]
    public async Task A_client_added_with_the_cli_gets_tokens_with_the_printed_secret_and_a_running_host_follows_updates_and_removal()
    {
        var secret = await AddClientAsync("m2m");
        Assert.Matches("^[0-9a-f]{64}$", secret);

        await using var host = await StartHostAsync();
        using var http = host.CreateClient();
        var token = await TokenResponseAsync(http, "m2m", secret, "api1");
        Assert.Equal(3600, token.GetProperty("expires_in").GetInt32());

        await OkAsync("clients", "update", "m2m", "--json", """{ "AccessTokenLifetime": 120 }""");
        await EventuallyAsync(async () => (await TokenResponseAsync(http, "m2m", secret, "api1")).GetProperty("expires_in").GetInt32() == 120, "the update");

        var output = await OkAsync("clients", "remove", "m2m");
        Assert.Contains("ConfigurationCacheLifetime", output, StringComparison.Ordinal);
        await EventuallyAsync(async () =>
        {
            using var response = await TestTokens.RequestAsync(http, "m2m", secret, "api1");
            return response.StatusCode == HttpStatusCode.Unauthorized
                   && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString() == "invalid_client";
        }, "the removal");
    }

    [Fact]
    public async Task A_client_added_while_the_host_runs_is_served_within_the_cache_lifetime()
    {
        await using var host = await StartHostAsync();
        using var http = host.CreateClient();
        var secret = await AddClientAsync("late");
        await EventuallyAsync(async () => (await TokenResponseAsync(http, "late", secret, "api1")).TryGetProperty("access_token", out _), "the new client");
    }

    [Fact]
    public async Task An_invalid_change_is_refused_with_the_validation_errors_and_nothing_is_written()
    {
        await AddClientAsync("m2m");
        var before = await OkAsync("config", "export");

        var error = await RefusedAsync("clients", "update", "m2m", "--json", """{ "AccessTokenLifetime": -1 }""");
        Assert.Contains("Client 'm2m': AccessTokenLifetime must be a positive number of seconds.", error, StringComparison.Ordinal);
        Assert.Contains("nothing was written", error, StringComparison.Ordinal);

        // The server's schema check: a misspelt property, named with a suggestion.
        error = await RefusedAsync("clients", "update", "m2m", "--json", """{ "AccessTokenLifetme": 5 }""");
        Assert.Contains("did you mean 'AccessTokenLifetime'?", error, StringComparison.Ordinal);

        error = await RefusedAsync("clients", "add", "--client-id", "other", "--grant-types", "client_credentials", "--scopes", "nope");
        Assert.Contains("allowed scope 'nope' is neither an ApiScope nor an IdentityResource", error, StringComparison.Ordinal);

        error = await RefusedAsync("clients", "remove-secret", "m2m", "--index", "0");
        Assert.Contains("requires a client secret but has none", error, StringComparison.Ordinal);

        error = await RefusedAsync("clients", "update", "m2m", "--json", """{ "ClientId": "renamed" }""");
        Assert.Contains("cannot change", error, StringComparison.Ordinal);

        Assert.Equal(before, await OkAsync("config", "export"));
    }

    [Fact]
    public async Task Secrets_are_added_and_removed_by_index_or_description_and_show_never_prints_them()
    {
        var first = await AddClientAsync("m2m");
        var output = await OkAsync("clients", "add-secret", "m2m", "--description", "rotation", "--expiration", "2099-01-31");
        var second = PrintedSecret(output);
        Assert.Contains("not shown again", output, StringComparison.Ordinal);

        // Read from standard input, so it stays out of the shell history.
        var (code, _, error) = await RunAsync(["clients", "add-secret", "m2m", "--secret", "-", "--description", "stdin", .. Server()], "a-secret-from-standard-input");
        Assert.True(code == 0, error);

        var shown = await OkAsync("clients", "show", "m2m");
        Assert.DoesNotContain(Secret.Hash(first), shown, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret.Hash(second), shown, StringComparison.Ordinal);
        Assert.DoesNotContain(second, shown, StringComparison.Ordinal);
        Assert.Contains("rotation", shown, StringComparison.Ordinal);
        Assert.Contains("2099-01-31", shown, StringComparison.Ordinal);

        await using (var host = await StartHostAsync())
        {
            using var http = host.CreateClient();
            Assert.True((await TokenResponseAsync(http, "m2m", first, "api1")).TryGetProperty("access_token", out _));
            Assert.True((await TokenResponseAsync(http, "m2m", second, "api1")).TryGetProperty("access_token", out _));
            Assert.True((await TokenResponseAsync(http, "m2m", "a-secret-from-standard-input", "api1")).TryGetProperty("access_token", out _));
        }

        await OkAsync("clients", "remove-secret", "m2m", "--index", "0");
        await OkAsync("clients", "remove-secret", "m2m", "--description", "rotation");
        Assert.Contains("No secret of client 'm2m' has the description", await RefusedAsync("clients", "remove-secret", "m2m", "--description", "rotation"), StringComparison.Ordinal);
        Assert.Contains("--index or with --description", await RefusedAsync("clients", "remove-secret", "m2m"), StringComparison.Ordinal);

        await using (var host = await StartHostAsync())
        {
            using var http = host.CreateClient();
            Assert.Equal("invalid_client", (await TokenResponseAsync(http, "m2m", first, "api1")).GetProperty("error").GetString());
            Assert.Equal("invalid_client", (await TokenResponseAsync(http, "m2m", second, "api1")).GetProperty("error").GetString());
            Assert.True((await TokenResponseAsync(http, "m2m", "a-secret-from-standard-input", "api1")).TryGetProperty("access_token", out _));
        }
    }

    [Fact]
    public async Task Scopes_resources_and_identity_resources_are_added_used_and_removed_and_a_scope_in_use_is_kept()
    {
        await OkAsync("scopes", "add", "--name", "orders.read", "--display-name", "Read orders");
        await OkAsync("resources", "add", "--json", """{ "Name": "orders", "Scopes": [ "orders.read" ] }""");
        await OkAsync("identity-resources", "add", "--name", "email", "--user-claims", "email,email_verified");
        var secret = await AddClientAsync("reader", "--scopes", "orders.read");

        var list = await OkAsync("scopes", "list");
        Assert.Contains("orders.read", list, StringComparison.Ordinal);
        Assert.Contains("Read orders", list, StringComparison.Ordinal);
        Assert.Contains("email_verified", await OkAsync("identity-resources", "show", "email"), StringComparison.Ordinal);

        await using (var host = await StartHostAsync())
        {
            using var http = host.CreateClient();
            var token = await TestTokens.GetAccessTokenAsync(http, "reader", secret, "orders.read");
            Assert.Equal("orders", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Audiences.Single());
        }

        var error = await RefusedAsync("scopes", "remove", "orders.read");
        Assert.Contains("ApiResource 'orders' names scope 'orders.read'", error, StringComparison.Ordinal);
        Assert.Contains("Client 'reader': allowed scope 'orders.read'", error, StringComparison.Ordinal);

        await OkAsync("clients", "remove", "reader");
        await OkAsync("resources", "remove", "orders");
        await OkAsync("scopes", "remove", "orders.read");
        await OkAsync("identity-resources", "remove", "email");
        Assert.DoesNotContain("orders.read", await OkAsync("scopes", "list"), StringComparison.Ordinal);
        Assert.Contains("There is no API resource 'orders'", await RefusedAsync("resources", "remove", "orders"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_of_the_configuration_file_are_listed_and_shown_but_cannot_be_changed()
    {
        var list = await OkAsync("clients", "list");
        Assert.Contains(list.Split('\n'), l => l.StartsWith("file-client", StringComparison.Ordinal) && l.TrimEnd().EndsWith("file", StringComparison.Ordinal));
        Assert.Contains("in the configuration file", await OkAsync("clients", "show", "file-client"), StringComparison.Ordinal);

        foreach (var command in new string[][]
                 {
                     ["clients", "update", "file-client", "--client-name", "x"],
                     ["clients", "remove", "file-client"],
                     ["clients", "add-secret", "file-client"],
                     ["clients", "remove-secret", "file-client", "--index", "0"],
                     ["scopes", "remove", "api1"],
                     ["identity-resources", "update", "openid", "--display-name", "x"],
                 })
        {
            Assert.Contains("defined in the configuration file", await RefusedAsync(command), StringComparison.Ordinal);
        }

        Assert.Contains("configuration file defines client 'file-client' already", await RefusedAsync("clients", "add", "--client-id", "file-client", "--grant-types", "client_credentials"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grants_are_listed_and_revoked_by_subject_or_client_and_their_reference_tokens_stop_being_active()
    {
        var machineSecret = await AddClientAsync("machine", "--access-token-type", "Reference");
        var legacySecret = await AddClientAsync("legacy", "--grant-types", "password", "--access-token-type", "Reference");

        await using var host = await StartHostAsync();
        using var http = host.CreateClient();
        var machineToken = (await TokenResponseAsync(http, "machine", machineSecret, "api1")).GetProperty("access_token").GetString()!;
        string aliceToken;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "connect/token"))
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("legacy", legacySecret));
            request.Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = "alice", ["password"] = Password, ["scope"] = "api1",
            });
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            aliceToken = JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
        }

        Assert.True(await IsActiveAsync(http, machineToken));
        Assert.True(await IsActiveAsync(http, aliceToken));

        var listed = await OkAsync("grants", "list", "--subject", "alice-id");
        var line = Assert.Single(listed.Split('\n'), l => l.StartsWith("reference_token", StringComparison.Ordinal));
        Assert.Contains("legacy", line, StringComparison.Ordinal);
        Assert.Contains("\"ClientId\": \"machine\"", await OkAsync("grants", "list", "--client", "machine", "--json"), StringComparison.Ordinal);

        Assert.Contains("Add --yes", await RefusedAsync("grants", "revoke", "--subject", "alice-id"), StringComparison.Ordinal);
        Assert.True(await IsActiveAsync(http, aliceToken));

        Assert.Contains("Revoked 1 grants of subject 'alice-id'", await OkAsync("grants", "revoke", "--subject", "alice-id", "--yes"), StringComparison.Ordinal);
        Assert.False(await IsActiveAsync(http, aliceToken));
        Assert.True(await IsActiveAsync(http, machineToken));

        Assert.Contains("Revoked 1 grants of client 'machine'", await OkAsync("grants", "revoke", "--client", "machine", "--yes"), StringComparison.Ordinal);
        Assert.False(await IsActiveAsync(http, machineToken));
        Assert.Contains("No grants match.", await OkAsync("grants", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cleanup_removes_expired_grants_only()
    {
        await using (var host = await StartHostAsync())
        {
            var store = host.Services.GetRequiredService<IPersistedGrantStore>();
            var now = DateTimeOffset.UtcNow;
            foreach (var (key, expiration) in new[] { ("expired", now.AddMinutes(-5)), ("current", now.AddHours(1)) })
            {
                await store.StoreAsync(new PersistedGrant
                {
                    Key = key,
                    Type = PersistedGrantTypes.ReferenceToken,
                    ClientId = "file-client",
                    SubjectId = "someone",
                    CreationTime = now.AddHours(-1),
                    Expiration = expiration,
                    Data = "{}",
                }, CancellationToken.None);
            }
        }

        Assert.Equal(2, (await OkAsync("grants", "list", "--subject", "someone")).Split('\n').Count(l => l.StartsWith("reference_token", StringComparison.Ordinal)));
        Assert.Contains("Removed 1 expired grants and server-side sessions.", await OkAsync("grants", "cleanup"), StringComparison.Ordinal);
        Assert.Single((await OkAsync("grants", "list")).Split('\n'), l => l.StartsWith("reference_token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Config_export_imports_into_a_fresh_database_where_the_same_secret_still_works()
    {
        var secret = await AddClientAsync("m2m");
        await OkAsync("scopes", "add", "--name", "extra");
        var exported = Path.Combine(_root.Path, "export.json");
        await OkAsync("config", "export", "--output", exported);
        var json = await File.ReadAllTextAsync(exported);
        Assert.Contains("\"sha256:" + Secret.Hash(secret) + "\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        Assert.DoesNotContain("file-client", json, StringComparison.Ordinal);

        using var fresh = new TempDirectory();
        var (code, output, error) = await RunAsync(["config", "import", exported, .. Server(fresh.Path)]);
        Assert.True(code == 0, error);
        Assert.Contains("1 clients (1 new, 0 replaced)", output, StringComparison.Ordinal);

        // The same file again: the same items, replaced; the fresh database exports what the first one did.
        (code, output, error) = await RunAsync(["config", "import", exported, "--replace", .. Server(fresh.Path)]);
        Assert.True(code == 0, error);
        Assert.Equal(json.Trim(), (await RunAsync(["config", "export", .. Server(fresh.Path)])).Output.Trim());

        await using var host = await StartHostAsync(fresh.Path);
        using var http = host.CreateClient();
        Assert.True((await TokenResponseAsync(http, "m2m", secret, "api1")).TryGetProperty("access_token", out _));
    }

    [Fact]
    public async Task Config_import_reports_what_the_server_would_and_refuses_items_of_the_configuration_file()
    {
        var file = Path.Combine(_root.Path, "import.json");
        await File.WriteAllTextAsync(file, """{ "Castellan": { "Clients": [ { "ClientId": "c", "AllowedGrantType": [ "client_credentials" ] } ] } }""");
        Assert.Contains("did you mean 'AllowedGrantTypes'?", await RefusedAsync("config", "import", file), StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """{ "Castelan": { } }""");
        Assert.Contains("Did you mean 'Castellan'?", await RefusedAsync("config", "import", file), StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """{ "Castellan": { "ApiScopes": [ { "Name": "api1" } ] } }""");
        Assert.Contains("API scope 'api1'", await RefusedAsync("config", "import", file), StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """{ "Castellan": { "IssuerUri": "https://login.example.com", "ApiScopes": [ { "Name": "imported" } ] } }""");
        Assert.Contains("Not imported (server settings", await OkAsync("config", "import", file), StringComparison.Ordinal);
        Assert.Contains("imported", await OkAsync("scopes", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_mistakes_exit_with_2_and_a_message()
    {
        Assert.Contains("There is no client 'nope'", await RefusedAsync("clients", "show", "nope"), StringComparison.Ordinal);
        Assert.Contains("<client-id> is missing", await RefusedAsync("clients", "show"), StringComparison.Ordinal);
        await RefusedAsync("clients");
        Assert.Contains("--json is not valid JSON", await RefusedAsync("clients", "add", "--json", "{ nope"), StringComparison.Ordinal);
        Assert.Contains("not both", await RefusedAsync("clients", "add", "--json", "{}", "--file", _config), StringComparison.Ordinal);
        Assert.Contains("Give the client's ClientId", await RefusedAsync("clients", "add", "--grant-types", "client_credentials"), StringComparison.Ordinal);
        Assert.Contains("--client, --subject or --session", await RefusedAsync("grants", "revoke", "--yes"), StringComparison.Ordinal);
        Assert.Contains("Add --yes", await RefusedAsync("grants", "revoke", "--client", "file-client"), StringComparison.Ordinal);
        Assert.Contains("not in the future", await RefusedAsync("clients", "add-secret", "file-client", "--expiration", "2001-01-01"), StringComparison.Ordinal);

        await AddClientAsync("twice");
        Assert.Contains("clients update twice", await RefusedAsync("clients", "add", "--client-id", "twice", "--grant-types", "client_credentials"), StringComparison.Ordinal);
        Assert.Contains("Nothing to change", await RefusedAsync("clients", "update", "twice"), StringComparison.Ordinal);

        var (code, _, error) = await RunAsync(["clients", "list", .. Server(), "--Castellan:Storage:Provider=InMemory"]);
        Assert.Equal(2, code);
        Assert.Contains("there is no database", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_servers_arguments_may_come_before_the_commands_own()
    {
        await AddClientAsync("m2m");
        var (code, output, error) = await RunAsync(["clients", "show", "--contentRoot", _root.Path, "--config", _config, "m2m", "--environment", "Development"]);
        Assert.True(code == 0, error);
        Assert.Contains("\"ClientId\": \"m2m\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_PostgreSQL_database_is_reported_with_exit_code_2_and_no_stack_trace()
    {
        var (code, output, error) = await RunAsync(["clients", "list", .. Server(), "--Castellan:Storage:Provider=PostgreSql",
            "--ConnectionStrings:Castellan=Host=127.0.0.1;Port=1;Database=castellan;Username=castellan;Password=x;Timeout=3"]);
        Assert.True(code == 2, $"exit {code}: {error}{output}");
        Assert.Contains("The database is unavailable", error, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Castellan", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_revoke_is_keys_delete_and_keys_list_is_keys()
    {
        var (code, _, error) = await RunAsync(["keys", "revoke", "no-such-kid", "--yes", .. Server()]);
        Assert.Equal(2, code);
        Assert.Contains("No stored key has the id 'no-such-kid'", error, StringComparison.Ordinal);
        Assert.Contains("No signing keys yet", await OkAsync("keys", "list"), StringComparison.Ordinal);
        Assert.True(HostCommands.IsCommand(["identity-resources", "list"]));
        Assert.True(HostCommands.IsCommand(["config", "export"]));
    }
}
