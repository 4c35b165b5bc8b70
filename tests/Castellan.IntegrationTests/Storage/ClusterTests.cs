using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Pkce;
using Microsoft.IdentityModel.JsonWebTokens;
using Xunit.Abstractions;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// Two host processes, each in its own empty folder on its own port, sharing one PostgreSQL database and nothing
/// else: what one node issues, the other honours; one-time grants have one winner across both.
/// </summary>
[Collection(PostgresCluster.Collection)]
public sealed class ClusterTests(PostgresCluster cluster, ITestOutputHelper output)
{
    private static readonly (string, string) Scope = ("scope", "api1");

    private async Task<ClusterNodes> NodesAsync() => new(await cluster.CreateDatabaseAsync("cluster"));

    [Fact]
    public async Task Nodes_starting_together_on_an_empty_database_create_one_key_and_publish_the_same_jwks()
    {
        await using var nodes = await NodesAsync();
        var started = await nodes.StartTogetherAsync(2);
        using var a = started[0];
        using var b = started[1];

        var jwksA = await a.JwksAsync();
        Assert.True(jwksA == await b.JwksAsync(), a.Process.Output + a.Process.Error + "\n----\n" + b.Process.Output + b.Process.Error);
        Assert.Single(JsonDocument.Parse(jwksA).RootElement.GetProperty("keys").EnumerateArray());

        // And both sign with it.
        var fromA = new JsonWebToken((await a.TokenJsonAsync("m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope)).GetProperty("access_token").GetString());
        var fromB = new JsonWebToken((await b.TokenJsonAsync("m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope)).GetProperty("access_token").GetString());
        Assert.Equal(fromA.Kid, fromB.Kid);
    }

    [Fact]
    public async Task A_reference_token_issued_on_one_node_is_introspected_and_revoked_on_the_other()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();

        var token = (await a.TokenJsonAsync("ref", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope)).GetProperty("access_token").GetString()!;
        Assert.True(await b.IsActiveAsync(token));

        using var revoked = await b.Http.PostAsync("connect/revocation", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "ref", ["client_secret"] = ClusterNodes.M2mSecret, ["token"] = token,
        }));
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.False(await a.IsActiveAsync(token));
    }

    [Fact]
    public async Task A_refresh_token_issued_on_one_node_is_redeemed_on_the_other_and_its_replay_revokes_the_family_everywhere()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();

        var first = await a.TokenJsonAsync("web", ClusterNodes.WebSecret, ("grant_type", "password"), ("username", "alice"), ("password", "alice-password"),
            ("scope", "openid api1 offline_access"));
        var refresh = first.GetProperty("refresh_token").GetString()!;
        var rotated = await b.TokenJsonAsync("web", ClusterNodes.WebSecret, ("grant_type", "refresh_token"), ("refresh_token", refresh));
        var next = rotated.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(refresh, next);

        // The rotated-away token again, on the first node: a replay, which revokes the new one too.
        using var replay = await a.TokenAsync("web", ClusterNodes.WebSecret, ("grant_type", "refresh_token"), ("refresh_token", refresh));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("invalid_grant", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var after = await b.TokenAsync("web", ClusterNodes.WebSecret, ("grant_type", "refresh_token"), ("refresh_token", next));
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task A_client_added_and_removed_with_the_admin_command_reaches_both_running_nodes_within_seconds()
    {
        await using var nodes = await NodesAsync();

        // Ten minutes: only the database's notification can explain a change served within seconds.
        using var a = await nodes.StartAsync("--Castellan:ConfigurationCacheLifetime=00:10:00");
        using var b = await nodes.StartAsync("--Castellan:ConfigurationCacheLifetime=00:10:00");
        using var folder = new TempDirectory();
        string[] server = ["--config", nodes.ConfigFile, "--contentRoot", folder.Path, "--environment", "Production"];

        var (code, text, error) = await HostProcess.RunAsync(folder.Path, ["clients", "add", "--client-id", "late", "--grant-types", "client_credentials", "--scopes", "api1", .. server]);
        Assert.True(code == 0, error + text);
        var secret = Assert.Single(text.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith("secret: ", StringComparison.Ordinal))["secret: ".Length..];
        var added = await ListeningNode.WithinAsync(async () => await StatusAsync(a, "late", secret) == HttpStatusCode.OK && await StatusAsync(b, "late", secret) == HttpStatusCode.OK,
            "the added client on both nodes");

        (code, text, error) = await HostProcess.RunAsync(folder.Path, ["clients", "remove", "late", .. server]);
        Assert.True(code == 0, error + text);
        var removed = await ListeningNode.WithinAsync(
            async () => await StatusAsync(a, "late", secret) == HttpStatusCode.Unauthorized && await StatusAsync(b, "late", secret) == HttpStatusCode.Unauthorized,
            "the removal on both nodes");
        output.WriteLine($"PostgreSQL, admin command process to two node processes: added served by both {added.TotalMilliseconds:0} ms after the command ended, removed after {removed.TotalMilliseconds:0} ms");
    }

    private static async Task<HttpStatusCode> StatusAsync(ClusterNodes.Node node, string clientId, string secret)
    {
        using var response = await node.TokenAsync(clientId, secret, ("grant_type", "client_credentials"), Scope);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_key_rotation_started_on_one_node_is_published_by_the_other_before_anyone_signs_with_it()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        var signing = new JsonWebToken((await a.TokenJsonAsync("m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope)).GetProperty("access_token").GetString()).Kid;

        // The operator's command, with node A's configuration (its database).
        using var folder = new TempDirectory();
        var (code, output, error) = await HostProcess.RunAsync(folder.Path, "keys", "rotate", "--config", nodes.ConfigFile, "--contentRoot", folder.Path, "--environment", "Production");
        Assert.True(code == 0, error + output);

        // B reloads its keys every second (KeyCacheDuration) and publishes the successor; neither node signs with it
        // before its propagation time (14 days by default).
        var kids = new List<string>();
        for (var attempt = 0; attempt < 100 && kids.Count < 2; attempt++)
        {
            await Task.Delay(100);
            kids = JsonDocument.Parse(await b.JwksAsync()).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
        }

        Assert.Equal(2, kids.Count);
        Assert.Contains(signing, kids);
        foreach (var node in new[] { a, b })
        {
            var kid = new JsonWebToken((await node.TokenJsonAsync("m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope)).GetProperty("access_token").GetString()).Kid;
            Assert.Equal(signing, kid);
        }
    }

    [Fact]
    public async Task A_session_signed_in_on_one_node_is_honoured_by_the_other()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        using var browser = new ClusterBrowser();
        var verifier = Duende.IdentityModel.CryptoRandom.CreateUniqueId(43);

        var callback = await browser.RunAsync(a.Address, ClusterBrowser.AuthorizeUrl(a.Address, PkceValidator.S256Challenge(verifier)), signIn: true);
        ClusterBrowser.Code(callback);

        // Behind a load balancer the browser's next request may land on B, with the session cookie A set; B reads it
        // (the Data Protection keys are shared) and answers prompt=none with a code, no login page.
        browser.ShareCookies(a.Address, b.Address);
        var silent = await browser.RunAsync(b.Address, ClusterBrowser.AuthorizeUrl(b.Address, PkceValidator.S256Challenge(verifier), prompt: "none"), signIn: false);
        var code = ClusterBrowser.Code(silent);
        var tokens = await a.TokenJsonAsync("web", ClusterNodes.WebSecret, ("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", ClusterNodes.RedirectUri), ("code_verifier", verifier));
        Assert.Equal("alice-id", new JsonWebToken(tokens.GetProperty("id_token").GetString()).Subject);
    }

    [Fact]
    public async Task Fifty_parallel_redemptions_of_one_code_over_both_nodes_have_exactly_one_winner()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        using var browser = new ClusterBrowser();
        var verifier = Duende.IdentityModel.CryptoRandom.CreateUniqueId(43);
        var code = ClusterBrowser.Code(await browser.RunAsync(a.Address, ClusterBrowser.AuthorizeUrl(a.Address, PkceValidator.S256Challenge(verifier)), signIn: true));

        var statuses = await RaceAsync(i => (i % 2 == 0 ? a : b).TokenAsync("web", ClusterNodes.WebSecret, ("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", ClusterNodes.RedirectUri), ("code_verifier", verifier)));

        Assert.Equal(1, statuses.Count(s => s.Status == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s.Status != HttpStatusCode.OK), s => Assert.Contains("invalid_grant", s.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_DPoP_proof_accepted_by_one_node_is_refused_by_the_other_and_of_fifty_sent_to_both_at_once_one_wins()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        using var key = new DPoPClientKey(TimeProvider.System);
        var htu = ClusterNodes.Issuer + "/connect/token";

        var proof = key.Proof("POST", htu);
        using (var first = await a.DPoPTokenAsync(proof, "m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope))
        {
            var body = await first.Content.ReadAsStringAsync();
            Assert.True(first.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("DPoP", JsonDocument.Parse(body).RootElement.GetProperty("token_type").GetString());
        }

        // The same proof at the other node: its jti is in the database the nodes share.
        using (var replay = await b.DPoPTokenAsync(proof, "m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope))
        {
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
            Assert.Equal("invalid_dpop_proof", JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        }

        // One fresh proof sent fifty times to both nodes at once: the insert is atomic, so exactly one is accepted.
        var raced = key.Proof("POST", htu);
        var statuses = await RaceAsync(i => (i % 2 == 0 ? a : b).DPoPTokenAsync(raced, "m2m", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope));
        Assert.Equal(1, statuses.Count(s => s.Status == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s.Status != HttpStatusCode.OK), s => Assert.Contains("invalid_dpop_proof", s.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fifty_parallel_refreshes_of_one_token_over_both_nodes_have_exactly_one_winner()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        var refresh = (await a.TokenJsonAsync("web", ClusterNodes.WebSecret, ("grant_type", "password"), ("username", "alice"), ("password", "alice-password"),
            ("scope", "openid api1 offline_access"))).GetProperty("refresh_token").GetString()!;

        var statuses = await RaceAsync(i => (i % 2 == 0 ? a : b).TokenAsync("web", ClusterNodes.WebSecret, ("grant_type", "refresh_token"), ("refresh_token", refresh)));

        Assert.Equal(1, statuses.Count(s => s.Status == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s.Status != HttpStatusCode.OK), s => Assert.Contains("invalid_grant", s.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_database_stopped_under_load_nodes_answer_503_never_500_issue_nothing_unstored_and_recover_by_themselves()
    {
        await using var nodes = await NodesAsync();
        using var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        var issued = new System.Collections.Concurrent.ConcurrentBag<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        using var stop = new CancellationTokenSource();

        async Task LoadAsync(ClusterNodes.Node node)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await node.TokenAsync("ref", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope);
                    statuses.Add(response.StatusCode);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        issued.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!);
                    }
                    else
                    {
                        Assert.Equal("5", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
                catch (HttpRequestException)
                {
                    statuses.Add(0);
                }
            }
        }

        var load = Enumerable.Range(0, 4).Select(i => Task.Run(() => LoadAsync(i % 2 == 0 ? a : b))).ToArray();
        await Task.Delay(500);
        using (var ready = await a.Http.GetAsync("health/ready"))
        {
            Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        }

        await cluster.StopAsync();
        try
        {
            await Task.Delay(1000);

            // Not ready while the database is away (a load balancer sends traffic elsewhere); alive all the same.
            using var notReady = await a.Http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            using var alive = await a.Http.GetAsync("health");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            await Task.Delay(1000);
        }
        finally
        {
            await cluster.StartAsync();
        }

        // Back by themselves: a token within a few seconds on each node, no restart.
        foreach (var node in new[] { a, b })
        {
            var recovered = false;
            for (var attempt = 0; attempt < 100 && !recovered; attempt++)
            {
                using var response = await node.TokenAsync("ref", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope);
                recovered = response.StatusCode == HttpStatusCode.OK;
                if (!recovered)
                {
                    await Task.Delay(100);
                }
            }

            Assert.True(recovered, "the node did not recover");
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);
        Assert.DoesNotContain(HttpStatusCode.InternalServerError, statuses);
        Assert.DoesNotContain((HttpStatusCode)0, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status {(int)s}"));

        // Every token a client was given was stored: it introspects as active.
        foreach (var token in issued)
        {
            Assert.True(await b.IsActiveAsync(token));
        }
    }

    [Fact]
    public async Task A_node_killed_under_load_loses_no_grant_a_client_was_told_about()
    {
        await using var nodes = await NodesAsync();
        var a = await nodes.StartAsync();
        using var b = await nodes.StartAsync();
        var issued = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        async Task LoadAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await a.TokenAsync("ref", ClusterNodes.M2mSecret, ("grant_type", "client_credentials"), Scope);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        issued.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException)
                {
                    // The node died mid-answer: the client was told nothing.
                }
            }
        }

        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(LoadAsync)).ToArray();
        await Task.Delay(1000);
        await a.Process.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(load);
        a.Dispose();

        Assert.NotEmpty(issued);
        foreach (var token in issued)
        {
            Assert.True(await b.IsActiveAsync(token));
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)[]> RaceAsync(Func<int, Task<HttpResponseMessage>> request)
    {
        using var gate = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            await gate.WaitAsync();
            using var response = await request(i);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        })).ToArray();
        gate.Release(50);
        return await Task.WhenAll(tasks);
    }
}
