using System.Net;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Pkce;
using Castellan.Storage.EntityFramework;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.Storage;

/// <summary>The host on its embedded default (a SQLite file in its data folder): a restart keeps every client, grant, session and key.</summary>
public sealed class EmbeddedDatabaseTests
{
    [Fact]
    public async Task A_restart_keeps_every_client_grant_session_and_key()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, $$"""
        {
          "Castellan": {
            "ConfigurationCacheLifetime": "00:00:01",
            "ApiScopes": [ { "Name": "api1" } ],
            "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "ApiSecrets": [ { "Value": "{{ClusterNodes.ApiSecret}}" } ] } ],
            "IdentityResources": [ { "Name": "openid", "UserClaims": [ "sub" ] } ],
            "Clients": [
              { "ClientId": "ref", "ClientSecrets": [ { "Value": "{{ClusterNodes.M2mSecret}}" } ], "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ], "AccessTokenType": "Reference" },
              { "ClientId": "web", "ClientSecrets": [ { "Value": "{{ClusterNodes.WebSecret}}" } ], "AllowedGrantTypes": [ "authorization_code", "password" ],
                "AllowOfflineAccess": true, "RedirectUris": [ "{{ClusterNodes.RedirectUri}}" ], "AllowedScopes": [ "openid", "api1" ] }
            ],
            "TestUsers": [ { "SubjectId": "alice-id", "Username": "alice", "Password": "alice-password" } ]
          }
        }
        """);
        var port = TestApp.FreePort();
        string[] args = TestApp.HostArgs(root.Path, port, "--config", config);
        using var browser = new ClusterBrowser();
        var verifier = Duende.IdentityModel.CryptoRandom.CreateUniqueId(43);
        string reference, refresh, kid;
        await using (var first = await TestApp.StartAsync(CastellanHostApp.Build(args)))
        {
            // A client added to the database while the server runs is served within the cache lifetime.
            await first.Services.GetRequiredService<EntityFrameworkConfigurationStore>().SaveClientAsync(new Client
            {
                ClientId = "db-client",
                ClientSecrets = { Secret.FromPlainText("db-client-secret-long-enough") },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
            }, default);
            using var http = first.CreateClient();
            kid = new JsonWebToken(await EventuallyTokenAsync(http, "db-client", "db-client-secret-long-enough")).Kid;

            reference = await TokenAsync(http, "ref", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), ("scope", "api1"));
            using var password = await PostTokenAsync(http, "web", ClusterNodes.WebSecret, ("grant_type", "password"), ("username", "alice"),
                ("password", "alice-password"), ("scope", "openid api1 offline_access"));
            refresh = JsonDocument.Parse(await password.Content.ReadAsStringAsync()).RootElement.GetProperty("refresh_token").GetString()!;
            ClusterBrowser.Code(await browser.RunAsync(first.BaseAddress, ClusterBrowser.AuthorizeUrl(first.BaseAddress, PkceValidator.S256Challenge(verifier)), signIn: true));
        }

        await using var second = await TestApp.StartAsync(CastellanHostApp.Build(args));
        using var again = second.CreateClient();

        // The client from the database, signed with the same key.
        Assert.Equal(kid, new JsonWebToken(await TokenAsync(again, "db-client", "db-client-secret-long-enough", ("grant_type", "client_credentials"), ("scope", "api1"))).Kid);

        // The reference token and the refresh token are still there.
        using var introspection = await again.PostAsync("connect/introspect", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "api1", ["client_secret"] = ClusterNodes.ApiSecret, ["token"] = reference,
        }));
        Assert.True(JsonDocument.Parse(await introspection.Content.ReadAsStringAsync()).RootElement.GetProperty("active").GetBoolean());
        Assert.NotEmpty(await TokenAsync(again, "web", ClusterNodes.WebSecret, ("grant_type", "refresh_token"), ("refresh_token", refresh)));

        // The session too: the cookie the first run set still signs the user in, silently.
        var silent = await browser.RunAsync(second.BaseAddress, ClusterBrowser.AuthorizeUrl(second.BaseAddress, PkceValidator.S256Challenge(verifier), prompt: "none"), signIn: false);
        Assert.NotEmpty(ClusterBrowser.Code(silent));
    }

    [Fact]
    public async Task The_session_lives_in_the_database_and_the_cookie_holds_only_its_key_so_the_server_can_end_it()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, $$"""
        {
          "Castellan": {
            "ApiScopes": [ { "Name": "api1" } ],
            "IdentityResources": [ { "Name": "openid", "UserClaims": [ "sub" ] } ],
            "Clients": [
              { "ClientId": "web", "ClientSecrets": [ { "Value": "{{ClusterNodes.WebSecret}}" } ], "AllowedGrantTypes": [ "authorization_code" ],
                "AllowOfflineAccess": true, "RedirectUris": [ "{{ClusterNodes.RedirectUri}}" ], "AllowedScopes": [ "openid", "api1" ] }
            ],
            "TestUsers": [ { "SubjectId": "alice-id", "Username": "alice", "Password": "alice-password" } ]
          }
        }
        """);
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));
        using var browser = new ClusterBrowser();
        var challenge = PkceValidator.S256Challenge(Duende.IdentityModel.CryptoRandom.CreateUniqueId(43));
        ClusterBrowser.Code(await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge), signIn: true));

        // The cookie is a key (a few dozen characters), not the encrypted ticket (hundreds).
        var cookie = browser.CookieValue(host.BaseAddress, ".Castellan.Session");
        Assert.NotNull(cookie);
        Assert.True(cookie.Length < 400, $"the session cookie is {cookie.Length} characters");
        var database = host.Services.GetRequiredService<CastellanDatabase>();
        await using (var db = database.CreateContext())
        {
            var session = Assert.Single(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.ServerSideSessions));
            Assert.Equal("alice-id", session.SubjectId);
            Assert.False(string.IsNullOrEmpty(session.SessionId));
        }

        // Still signed in, silently.
        Assert.NotEmpty(ClusterBrowser.Code(await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge, prompt: "none"), signIn: false)));

        // Ended on the server: the same cookie signs nobody in any more.
        await using (var db = database.CreateContext())
        {
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteDeleteAsync(db.ServerSideSessions.Where(s => s.SubjectId == "alice-id"));
        }

        var after = await browser.RunAsync(host.BaseAddress, ClusterBrowser.AuthorizeUrl(host.BaseAddress, challenge, prompt: "none"), signIn: false);
        Assert.Contains("error=login_required", after.Query, StringComparison.Ordinal);
    }

    private static async Task<string> EventuallyTokenAsync(HttpClient http, string clientId, string secret)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await PostTokenAsync(http, clientId, secret, ("grant_type", "client_credentials"), ("scope", "api1"));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
            }

            Assert.True(attempt < 50, $"the new client was not served: {(int)response.StatusCode}");
            await Task.Delay(100);
        }
    }

    private static async Task<string> TokenAsync(HttpClient http, string clientId, string secret, params (string, string)[] parameters)
    {
        using var response = await PostTokenAsync(http, clientId, secret, parameters);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    private static Task<HttpResponseMessage> PostTokenAsync(HttpClient http, string clientId, string secret, params (string Name, string Value)[] parameters)
        => http.PostAsync("connect/token", new FormUrlEncodedContent(
            parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)).Append(new("client_id", clientId)).Append(new("client_secret", secret))));
}
