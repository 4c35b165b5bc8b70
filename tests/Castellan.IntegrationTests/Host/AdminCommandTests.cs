using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.IntegrationTests.Storage;
using Castellan.Pkce;
using Castellan.Sessions;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// The admin commands (clients, scopes, resources, identity-resources, grants, sessions, config) against the host's default
/// SQLite database in a temporary content root, checked through a started host.
/// </summary>
public sealed class AdminCommandTests : IDisposable
{
    private const string ApiSecret = "api1-introspection-secret";
    private const string FileClientSecret = "file-client-secret-value";
    private const string Password = "alice-long-password";
    private const string WebSecret = "web-client-secret-value";

    /// <summary>The server's configuration file: one API, the openid scope, a machine client, a web client and a user of its own.</summary>
    private const string ConfigFile = $$"""
    {
      "Castellan": {
        "ApiScopes": [ { "Name": "api1" } ],
        "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "ApiSecrets": [ { "Value": "{{ApiSecret}}" } ] } ],
        "IdentityResources": [ { "Name": "openid", "UserClaims": [ "sub" ], "Required": true } ],
        "Clients": [ { "ClientId": "file-client", "ClientSecrets": [ { "Value": "{{FileClientSecret}}" } ],
                       "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] },
                     { "ClientId": "web", "ClientSecrets": [ { "Value": "{{WebSecret}}" } ], "AllowedGrantTypes": [ "authorization_code" ],
                       "AllowOfflineAccess": true, "RedirectUris": [ "{{ClusterNodes.RedirectUri}}" ], "AllowedScopes": [ "openid", "api1" ] } ],
        "TestUsers": [ { "SubjectId": "alice-id", "Username": "alice", "Password": "{{Password}}" } ]
      }
    }
    """;

    /// <summary>When <see cref="SeedSessionsAsync"/> says the sessions were created (whole seconds, as they round-trip).</summary>
    private static readonly DateTimeOffset SeedTime = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

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

        Assert.Contains("Ended 0 server-side sessions and revoked 1 grants of subject 'alice-id'.", await OkAsync("grants", "revoke", "--subject", "alice-id", "--yes"), StringComparison.Ordinal);
        Assert.False(await IsActiveAsync(http, aliceToken));
        Assert.True(await IsActiveAsync(http, machineToken));

        Assert.Contains("Revoked 1 grants of client 'machine'", await OkAsync("grants", "revoke", "--client", "machine", "--yes"), StringComparison.Ordinal);
        Assert.False(await IsActiveAsync(http, machineToken));
        Assert.Contains("No grants match.", await OkAsync("grants", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_in_users_session_is_listed_and_grants_revoke_by_session_signs_them_out_and_ends_its_refresh_token()
    {
        await using var host = await StartHostAsync();
        using var http = host.CreateClient();
        using var browser = new ClusterBrowser(Password);
        var verifier = Duende.IdentityModel.CryptoRandom.CreateUniqueId(43);
        var challenge = PkceValidator.S256Challenge(verifier);
        var code = ClusterBrowser.Code(await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge), signIn: true));
        var refresh = (await WebTokenAsync(http, ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", ClusterNodes.RedirectUri), ("code_verifier", verifier)))
            .GetProperty("refresh_token").GetString()!;
        refresh = (await WebTokenAsync(http, ("grant_type", "refresh_token"), ("refresh_token", refresh))).GetProperty("refresh_token").GetString()!;
        Assert.NotEmpty(ClusterBrowser.Code(await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge, prompt: "none"), signIn: false)));

        var listed = Assert.Single(await ListJsonAsync("sessions", "list"));
        Assert.Equal("alice-id", listed.GetProperty("SubjectId").GetString());
        var sid = listed.GetProperty("SessionId").GetString()!;
        Assert.False(string.IsNullOrEmpty(sid));
        Assert.Contains(sid, await OkAsync("sessions", "list", "--subject", "alice-id"), StringComparison.Ordinal);
        var grants = await ListJsonAsync("grants", "list", "--session", sid);
        Assert.Contains(grants, g => g.GetProperty("Type").GetString() == PersistedGrantTypes.RefreshToken && g.GetProperty("ConsumedTime").ValueKind == JsonValueKind.Null);

        Assert.Contains($"Ended 1 server-side sessions and revoked {grants.Length} grants of session '{sid}'.",
            await OkAsync("grants", "revoke", "--session", sid, "--yes"), StringComparison.Ordinal);

        Assert.Contains("No sessions match.", await OkAsync("sessions", "list"), StringComparison.Ordinal);
        Assert.Contains("No grants match.", await OkAsync("grants", "list", "--session", sid), StringComparison.Ordinal);
        Assert.Equal("invalid_grant", (await WebTokenAsync(http, ("grant_type", "refresh_token"), ("refresh_token", refresh))).GetProperty("error").GetString());
        var silent = await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge, prompt: "none"), signIn: false);
        Assert.Contains("error=login_required", silent.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_are_listed_oldest_first_without_their_keys_and_ending_a_subjects_removes_its_sessions_and_grants_only()
    {
        var keys = await SeedSessionsAsync();

        var table = await OkAsync("sessions", "list");
        var lines = table.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["subject", "session", "created", "renewed", "expires"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["alice-id sid-a1", "alice-id sid-a2", "bob-id sid-b1"], lines[1..].Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2])));
        var json = await OkAsync("sessions", "list", "--subject", "alice-id", "--json");
        foreach (var key in keys)
        {
            Assert.DoesNotContain(key[..8], table, StringComparison.Ordinal);
            Assert.DoesNotContain(key[..8], json, StringComparison.Ordinal);
        }

        var alice = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        Assert.Equal(["sid-a1", "sid-a2"], alice.Select(s => s.GetProperty("SessionId").GetString()));
        Assert.All(alice, s => Assert.Equal(["SubjectId", "SessionId", "Created", "Renewed", "Expires"], s.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(SeedTime.AddHours(-3), alice[0].GetProperty("Created").GetDateTimeOffset());
        Assert.Equal(SeedTime.AddHours(-3).AddDays(1), alice[0].GetProperty("Expires").GetDateTimeOffset());
        Assert.Contains("The first 2 are shown", await OkAsync("sessions", "list", "--limit", "2"), StringComparison.Ordinal);

        Assert.Contains("This ends 2 server-side sessions and revokes 2 grants of subject 'alice-id'. Add --yes to confirm.",
            await RefusedAsync("sessions", "end", "--subject", "alice-id"), StringComparison.Ordinal);
        Assert.Equal(["sid-a1", "sid-a2", "sid-b1"], await SessionIdsAsync());

        Assert.Contains("Ended 2 server-side sessions and revoked 2 grants of subject 'alice-id'.",
            await OkAsync("sessions", "end", "--subject", "alice-id", "--yes"), StringComparison.Ordinal);
        Assert.Equal(["sid-b1"], await SessionIdsAsync());
        Assert.Equal(["file-client/", "web/sid-b1"], await GrantsAsync());
    }

    [Fact]
    public async Task Ending_one_session_removes_that_session_and_its_grants_and_leaves_the_users_other_sessions()
    {
        await SeedSessionsAsync();

        Assert.Contains("Ended 1 server-side sessions and revoked 1 grants of session 'sid-a1'.",
            await OkAsync("sessions", "end", "--session", "sid-a1", "--yes"), StringComparison.Ordinal);
        Assert.Equal(["sid-a2", "sid-b1"], await SessionIdsAsync());
        Assert.Equal(["file-client/", "web/sid-a2", "web/sid-b1"], await GrantsAsync());

        // Given together, both must match: sid-b1 is bob's.
        Assert.Contains("Ended 0 server-side sessions and revoked 0 grants of subject 'alice-id' and session 'sid-b1'.",
            await OkAsync("sessions", "end", "--subject", "alice-id", "--session", "sid-b1", "--yes"), StringComparison.Ordinal);
        Assert.Equal(["sid-a2", "sid-b1"], await SessionIdsAsync());
    }

    [Fact]
    public async Task Grants_revoke_by_subject_ends_the_subjects_sessions_but_with_a_client_leaves_them()
    {
        await SeedSessionsAsync();

        var output = await OkAsync("grants", "revoke", "--client", "web", "--subject", "alice-id", "--yes");
        Assert.Contains("Revoked 2 grants of client 'web' and subject 'alice-id'.", output, StringComparison.Ordinal);
        Assert.Contains("Sessions are not ended when --client is given", output, StringComparison.Ordinal);
        Assert.Equal(["sid-a1", "sid-a2", "sid-b1"], await SessionIdsAsync());

        Assert.Contains("This ends 1 server-side sessions and revokes 1 grants of subject 'bob-id'.", await RefusedAsync("grants", "revoke", "--subject", "bob-id"), StringComparison.Ordinal);
        Assert.Contains("Ended 1 server-side sessions and revoked 1 grants of subject 'bob-id'.", await OkAsync("grants", "revoke", "--subject", "bob-id", "--yes"), StringComparison.Ordinal);
        Assert.Equal(["sid-a1", "sid-a2"], await SessionIdsAsync());
        Assert.Equal(["file-client/"], await GrantsAsync());
    }

    [Fact]
    public async Task Sessions_commands_without_a_filter_or_without_a_database_exit_with_2()
    {
        await SeedSessionsAsync();
        Assert.Contains("--subject or --session", await RefusedAsync("sessions", "end", "--yes"), StringComparison.Ordinal);
        Assert.Contains("--limit must be between 1 and 100000", await RefusedAsync("sessions", "list", "--limit", "0"), StringComparison.Ordinal);
        Assert.Equal(["sid-a1", "sid-a2", "sid-b1"], await SessionIdsAsync());

        foreach (var command in new string[][] { ["sessions", "list"], ["sessions", "end", "--subject", "alice-id", "--yes"], ["grants", "revoke", "--session", "sid-a1", "--yes"] })
        {
            var (code, output, error) = await RunAsync([.. command, .. Server(), "--Castellan:Storage:Provider=InMemory"]);
            Assert.True(code == 2, $"exit {code}: {error}{output}");
            Assert.Contains("there is no database", error, StringComparison.Ordinal);
            Assert.Contains("sessions in the browsers' cookies", error, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Sessions as sign-ins leave them, through the server's ticket store: alice in sid-a1 and sid-a2, bob in sid-b1,
    /// each with a refresh token of client web; and a machine client's reference token of no session.
    /// </summary>
    /// <returns>The sessions' keys (what their cookies hold).</returns>
    private async Task<List<string>> SeedSessionsAsync()
    {
        await using var host = await StartHostAsync();
        var sessions = host.Services.GetRequiredService<EntityFrameworkTicketStore>();
        var grants = host.Services.GetRequiredService<IPersistedGrantStore>();
        var keys = new List<string>();
        foreach (var (subject, sid, hoursAgo) in new[] { ("alice-id", "sid-a1", 3), ("bob-id", "sid-b1", 1), ("alice-id", "sid-a2", 2) })
        {
            var created = SeedTime.AddHours(-hoursAgo);
            var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", subject), new Claim("sid", sid)], "test"));
            keys.Add(await sessions.StoreAsync(new AuthenticationTicket(principal, new AuthenticationProperties { IssuedUtc = created, ExpiresUtc = created.AddDays(1) },
                CastellanSessionDefaults.AuthenticationScheme)));
            await grants.StoreAsync(Grant("rt-" + sid, PersistedGrantTypes.RefreshToken, "web", subject, sid), CancellationToken.None);
        }

        await grants.StoreAsync(Grant("machine-token", PersistedGrantTypes.ReferenceToken, "file-client", null, null), CancellationToken.None);
        return keys;
    }

    private static PersistedGrant Grant(string key, string type, string clientId, string? subject, string? session) => new()
    {
        Key = key,
        Type = type,
        ClientId = clientId,
        SubjectId = subject,
        SessionId = session,
        CreationTime = SeedTime.AddHours(-1),
        Expiration = SeedTime.AddDays(1),
        Data = "{}",
    };

    private async Task<JsonElement[]> ListJsonAsync(params string[] args)
    {
        using var json = JsonDocument.Parse(await OkAsync([.. args, "--json"]));
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The session ids <c>sessions list</c> shows, in its order.</summary>
    private async Task<string[]> SessionIdsAsync() => [.. (await ListJsonAsync("sessions", "list")).Select(s => s.GetProperty("SessionId").GetString()!)];

    /// <summary>The grants that remain, as client/session, sorted.</summary>
    private async Task<string[]> GrantsAsync()
        => [.. (await ListJsonAsync("grants", "list")).Select(g => $"{g.GetProperty("ClientId").GetString()}/{g.GetProperty("SessionId").GetString()}").Order(StringComparer.Ordinal)];

    /// <summary>The token endpoint's answer to the web client, success or error.</summary>
    private static async Task<JsonElement> WebTokenAsync(HttpClient http, params (string Name, string Value)[] parameters)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("web", WebSecret));
        request.Content = new FormUrlEncodedContent(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
        using var response = await http.SendAsync(request);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
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
        Assert.Contains("Removed 1 expired grants, server-side sessions and replay entries.", await OkAsync("grants", "cleanup"), StringComparison.Ordinal);
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
    public async Task An_HmacSecret_is_added_hidden_by_show_exported_with_its_type_and_works_after_an_import()
    {
        const string given = "hmac-given-0123456789abcdef0123456789abcdef";
        await OkAsync("clients", "add", "--client-id", "hmac", "--grant-types", "client_credentials", "--scopes", "api1", "--auth-methods", "client_secret_jwt",
            "--json", $$"""{ "ClientSecrets": [ { "Type": "HmacSecret", "Value": "{{given}}" } ] }""");
        var output = await OkAsync("clients", "add-secret", "hmac", "--type", "HmacSecret", "--description", "rotated");
        var generated = PrintedSecret(output);
        Assert.Contains("stored encrypted", output, StringComparison.Ordinal);
        Assert.Contains("a hash", await RefusedAsync("clients", "add-secret", "hmac", "--type", "HmacSecret", "--secret", "sha256:" + Secret.Hash(given)), StringComparison.Ordinal);
        Assert.Contains("shorter than 32 bytes", await RefusedAsync("clients", "add-secret", "hmac", "--type", "HmacSecret", "--secret", "short"), StringComparison.Ordinal);

        // A key of another type keeps its type through an export, too.
        await OkAsync("clients", "add", "--client-id", "ca-client", "--grant-types", "client_credentials", "--scopes", "api1",
            "--auth-methods", "tls_client_auth", "--json", """{ "ClientSecrets": [ { "Type": "X509Name", "Value": "CN=billing.example, O=Example" } ] }""");

        var shown = await OkAsync("clients", "show", "hmac");
        Assert.DoesNotContain(given, shown, StringComparison.Ordinal);
        Assert.DoesNotContain(generated, shown, StringComparison.Ordinal);
        Assert.Contains("(hidden)", shown, StringComparison.Ordinal);
        Assert.Contains("HmacSecret", shown, StringComparison.Ordinal);

        var exported = Path.Combine(_root.Path, "export.json");
        await OkAsync("config", "export", "--output", exported);
        var json = await File.ReadAllTextAsync(exported);
        Assert.Contains("\"Type\": \"HmacSecret\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Value\": \"" + generated + "\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Value\": \"CN=billing.example, O=Example\"", json, StringComparison.Ordinal);

        using var fresh = new TempDirectory();
        var (code, _, error) = await RunAsync(["config", "import", exported, .. Server(fresh.Path)]);
        Assert.True(code == 0, error);

        await using var host = await StartHostAsync(fresh.Path);
        using var http = host.CreateClient();
        foreach (var secret in new[] { given, generated })
        {
            var key = new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(secret));
            var response = await TestTokens.RequestWithAssertionAsync(http, "hmac", TestTokens.ClientAssertion("hmac", host.BaseAddress, key, "HS256"));
            Assert.False(response.IsError, response.Raw);
        }
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
    public async Task Clients_may_be_added_for_the_mutual_tls_methods_and_their_secrets_are_checked()
    {
        await OkAsync("clients", "add", "--client-id", "ca-client", "--grant-types", "client_credentials", "--scopes", "api1",
            "--auth-methods", "tls_client_auth", "--json", """{ "ClientSecrets": [ { "Type": "X509Name", "Value": "CN=billing.example, O=Example" } ] }""");
        await OkAsync("clients", "add", "--client-id", "self-signed", "--grant-types", "client_credentials", "--scopes", "api1",
            "--auth-methods", "self_signed_tls_client_auth", "--json", """{ "ClientSecrets": [ { "Type": "X509Thumbprint", "Value": "A9993E364706816ABA3E25717850C26C9CD0D89D" } ] }""");
        Assert.Contains("\"tls_client_auth\"", await OkAsync("clients", "show", "ca-client"), StringComparison.Ordinal);

        Assert.Contains("authentication method 'tls_client_auth' needs the certificate's subject", await RefusedAsync("clients", "add", "--client-id", "no-name",
            "--grant-types", "client_credentials", "--scopes", "api1", "--auth-methods", "tls_client_auth"), StringComparison.Ordinal);
        Assert.Contains("40 (SHA-1) or 64 (SHA-256) hex characters", await RefusedAsync("clients", "add", "--client-id", "bad-thumbprint",
            "--grant-types", "client_credentials", "--scopes", "api1", "--json", """{ "ClientSecrets": [ { "Type": "X509Thumbprint", "Value": "ABC" } ] }"""), StringComparison.Ordinal);
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
