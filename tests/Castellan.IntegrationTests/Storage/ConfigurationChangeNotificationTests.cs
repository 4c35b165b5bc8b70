using System.Diagnostics;
using System.Net;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// A running node learns of a configuration change that another process wrote (another service provider on the
/// database, the admin commands) from the database itself, within about a second. The cache lifetime is ten
/// minutes in these tests, so nothing else could explain a change seen within seconds.
/// </summary>
public sealed class SqliteConfigurationChangeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_written_by_another_process_on_the_file_is_served_and_its_removal_followed_within_seconds()
    {
        await using var node = await ListeningNode.StartAsync(configure => StoreFactory.SqliteAsync(configure));
        var (added, removed) = await node.FollowAddAndRemoveAsync();
        output.WriteLine($"SQLite, another provider on the file: added seen after {added.TotalMilliseconds:0} ms, removed after {removed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task An_announced_change_that_does_not_validate_is_refused_and_the_last_good_configuration_stays()
    {
        await using var node = await ListeningNode.StartAsync(configure => StoreFactory.SqliteAsync(configure));
        await using var writer = await node.WriterAsync();
        var store = writer.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        await store.SaveClientAsync(ListeningNode.M2m("good", "api1"), default);
        await node.SeesAsync("good", present: true);

        // A client naming a scope nobody configured (the admin commands would refuse it; the store's own API does not).
        await store.SaveClientAsync(ListeningNode.M2m("broken", "no-such-scope"), default);
        var invalid = await store.GetVersionAsync(default);
        await ListeningNode.WithinAsync(() => Task.FromResult(node.Snapshot.Version == invalid), "the invalid version being looked at");
        Assert.Null(await node.Clients.FindClientByIdAsync("broken", default));
        Assert.NotNull(await node.Clients.FindClientByIdAsync("good", default));
        Assert.True(node.Logs.Has("ConfigurationStoreChangeRejected"), string.Join('\n', node.Logs.AtOrAbove(LogLevel.Warning)));

        // Repaired: served.
        await store.SaveApiScopeAsync(new ApiScope("no-such-scope"), default);
        await node.SeesAsync("broken", present: true);
    }

    [Fact]
    public async Task A_client_added_and_removed_with_the_admin_commands_reaches_the_running_host_within_seconds()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, """
            { "Castellan": { "ApiScopes": [ { "Name": "api1" } ], "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ] } }
            """);
        string[] server = ["--contentRoot", root.Path, "--config", config, "--environment", "Development"];
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config,
            $"--Castellan:ConfigurationCacheLifetime={ListeningNode.LongLifetime}")));
        using var http = host.CreateClient();

        var (code, text, error) = await AdminAsync(["clients", "add", "--client-id", "late", "--grant-types", "client_credentials", "--scopes", "api1", .. server]);
        Assert.True(code == 0, error + text);
        Assert.Contains("within about a second", text, StringComparison.Ordinal);
        var secret = Assert.Single(text.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith("secret: ", StringComparison.Ordinal))["secret: ".Length..];
        var added = await ListeningNode.WithinAsync(async () => await TokenStatusAsync(http, "late", secret) == HttpStatusCode.OK, "the added client");

        (code, text, error) = await AdminAsync(["clients", "remove", "late", .. server]);
        Assert.True(code == 0, error + text);
        var removed = await ListeningNode.WithinAsync(async () => await TokenStatusAsync(http, "late", secret) == HttpStatusCode.Unauthorized, "the removal");
        output.WriteLine($"SQLite, admin command to host: added served after {added.TotalMilliseconds:0} ms, removed after {removed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void With_notifications_off_no_listener_runs()
    {
        var services = new ServiceCollection();
        services.AddCastellan().AddEntityFrameworkStores(store =>
        {
            store.ConnectionString = "Data Source=unused.db";
            store.NotifyConfigurationChanges = false;
        });
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ConfigurationChangeListener));

        var defaults = new ServiceCollection();
        defaults.AddCastellan().AddEntityFrameworkStores(store => store.ConnectionString = "Data Source=unused.db");
        Assert.Contains(defaults, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ConfigurationChangeListener));
    }

    private static async Task<(int Code, string Output, string Error)> AdminAsync(string[] args)
    {
        using var text = new StringWriter();
        using var error = new StringWriter();
        var code = await HostCommands.RunAsync(args, text, error, new StringReader(""));
        return (code, text.ToString(), error.ToString());
    }

    private static async Task<HttpStatusCode> TokenStatusAsync(HttpClient http, string clientId, string secret)
    {
        using var response = await TestTokens.RequestAsync(http, clientId, secret, "api1");
        return response.StatusCode;
    }
}

/// <summary>The same on PostgreSQL, where the notification comes with the commit, and the listener's connection can be lost.</summary>
[Collection(PostgresCluster.Collection)]
public sealed class PostgreSqlConfigurationChangeTests(PostgresCluster cluster, ITestOutputHelper output)
{
    private Task<StoreFactory> DatabaseAsync(Action<IServiceCollection> configure) => StoreFactory.PostgreSqlAsync(cluster, configure);

    [Fact]
    public async Task A_client_written_by_another_node_is_served_and_its_removal_followed_within_seconds()
    {
        await using var node = await ListeningNode.StartAsync(DatabaseAsync);
        var (added, removed) = await node.FollowAddAndRemoveAsync();
        output.WriteLine($"PostgreSQL, another provider: added seen after {added.TotalMilliseconds:0} ms, removed after {removed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task The_listener_reconnects_after_a_database_restart_and_reads_the_changes_made_since()
    {
        await using var node = await ListeningNode.StartAsync(DatabaseAsync);
        await using var writer = await node.WriterAsync();
        var store = writer.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);

        await cluster.StopAsync();
        await cluster.StartAsync();

        // Written at once, maybe before the listener is back: the announcement it makes on reconnecting covers it.
        await store.SaveClientAsync(ListeningNode.M2m("during", "api1"), default);
        var during = await node.SeesAsync("during", present: true);
        await ListeningNode.WithinAsync(() => Task.FromResult(node.Logs.Count("ConfigurationListenerConnected") >= 2), "the listener reconnecting");
        Assert.True(node.Logs.Has("ConfigurationListenerFailed"));

        // And it listens again.
        await store.SaveClientAsync(ListeningNode.M2m("after", "api1"), default);
        var after = await node.SeesAsync("after", present: true);
        output.WriteLine($"PostgreSQL restart: change made right after the restart seen after {during.TotalMilliseconds:0} ms, a later one after {after.TotalMilliseconds:0} ms");
    }
}

/// <summary>
/// A node as far as configuration goes: a service provider on a database, its snapshot loaded and its change
/// listener running, with a cache lifetime (<see cref="LongLifetime"/>) that no test waits for.
/// </summary>
internal sealed class ListeningNode : IAsyncDisposable
{
    public static readonly TimeSpan LongLifetime = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly StoreFactory _factory;
    private readonly IHostedService _listener;

    private ListeningNode(StoreFactory factory, LogCollector logs)
    {
        _factory = factory;
        Logs = logs;
        _listener = factory.Services.GetServices<IHostedService>().OfType<ConfigurationChangeListener>().Single();
    }

    public LogCollector Logs { get; }

    public string ConnectionString => _factory.ConnectionString;

    public IClientStore Clients => _factory.Get<IClientStore>();

    public SnapshotConfigurationStore Snapshot => _factory.Get<SnapshotConfigurationStore>();

    /// <summary>Starts a node on the database <paramref name="create"/> makes, and waits until its listener is connected.</summary>
    public static async Task<ListeningNode> StartAsync(Func<Action<IServiceCollection>, Task<StoreFactory>> create)
    {
        var logs = new LogCollector();
        var factory = await create(services =>
        {
            services.Configure<CastellanOptions>(o => o.ConfigurationCacheLifetime = LongLifetime);
            services.AddLogging(l => l.SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft", LogLevel.Warning).AddProvider(logs));
        });
        var node = new ListeningNode(factory, logs);
        await factory.Get<CastellanStartupValidator>().ValidateWithStoreAsync(default);
        await node._listener.StartAsync(default);

        // Connected before the test writes, so what the test sees comes from the change's own announcement.
        await WithinAsync(() => Task.FromResult(logs.Has("ConfigurationListenerConnected")), "the listener connecting");
        return node;
    }

    /// <summary>Another provider on this node's database (another node, as far as the node can tell).</summary>
    public Task<StoreFactory> WriterAsync() => StoreFactory.OnAsync(_factory.Database.Provider, ConnectionString);

    /// <summary>Waits until the node serves <paramref name="clientId"/> (or, not <paramref name="present"/>, no longer does); returns how long that took.</summary>
    public Task<TimeSpan> SeesAsync(string clientId, bool present)
        => WithinAsync(async () => (await Clients.FindClientByIdAsync(clientId, default) is not null) == present, $"client '{clientId}' {(present ? "served" : "gone")}");

    /// <summary>Another provider adds a client and then removes it; returns how long this node took to follow each.</summary>
    public async Task<(TimeSpan Added, TimeSpan Removed)> FollowAddAndRemoveAsync()
    {
        await using var writer = await WriterAsync();
        var store = writer.Get<EntityFrameworkConfigurationStore>();
        await store.SaveApiScopeAsync(new ApiScope("api1"), default);
        await store.SaveClientAsync(M2m("late", "api1"), default);
        var added = await SeesAsync("late", present: true);
        await store.RemoveClientAsync("late", default);
        return (added, await SeesAsync("late", present: false));
    }

    public static Client M2m(string id, string scope) => new()
    {
        ClientId = id,
        ClientSecrets = { Secret.FromPlainText("a-long-enough-client-secret") },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { scope },
    };

    /// <summary>Asks until <paramref name="condition"/> holds, failing after <see cref="Deadline"/>; returns how long it took.</summary>
    public static async Task<TimeSpan> WithinAsync(Func<Task<bool>> condition, string what)
    {
        var started = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(started.Elapsed < Deadline, $"Not seen within {Deadline.TotalSeconds} s: {what}");
            await Task.Delay(20);
        }

        return started.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAsync(default);
        await _factory.DisposeAsync();
    }
}
