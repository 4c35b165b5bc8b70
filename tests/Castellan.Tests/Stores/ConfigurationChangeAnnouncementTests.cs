using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.Tests.Stores;

/// <summary>
/// A configuration source that announces its changes (<see cref="IConfigurationChangeNotifier"/>): the snapshot is
/// checked at once, in the background, with the cache lifetime far away (the clock never moves here), and an
/// announcement that arrives while a check runs is not lost to it.
/// </summary>
public sealed class ConfigurationChangeAnnouncementTests
{
    private static readonly ApiScope Api = new("api1");

    private static Client M2m(string id) => new()
    {
        ClientId = id,
        ClientSecrets = { Secret.FromPlainText("a-long-enough-client-secret") },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { Api.Name },
    };

    private static ServiceProvider Services(AnnouncingSource source)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)));
        services.AddSingleton(source);
        services.AddCastellan(o => o.ConfigurationCacheLifetime = TimeSpan.FromHours(1)).AddConfigurationSource<AnnouncingSource>();
        return services.BuildServiceProvider();
    }

    /// <summary>The client store, with the first snapshot read (version 1, client "first").</summary>
    private static async Task<IClientStore> LoadedAsync(ServiceProvider services)
    {
        var clients = services.GetRequiredService<IClientStore>();
        Assert.NotNull(await clients.FindClientByIdAsync("first", default));
        return clients;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Not seen within 10 s: " + what);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task An_announced_change_is_served_long_before_the_cache_lifetime_ends()
    {
        var source = new AnnouncingSource(new ConfigurationSnapshot { Version = 1, ApiScopes = [Api], Clients = [M2m("first")] });
        await using var services = Services(source);
        var clients = await LoadedAsync(services);

        source.Current = new ConfigurationSnapshot { Version = 2, ApiScopes = [Api], Clients = [M2m("first"), M2m("second")] };
        Assert.Null(await clients.FindClientByIdAsync("second", default));
        source.Announce();

        await EventuallyAsync(async () => await clients.FindClientByIdAsync("second", default) is not null, "the announced client");
        Assert.Equal(1, source.VersionChecks);
    }

    [Fact]
    public async Task A_change_announced_while_a_check_runs_is_read_by_a_check_after_it()
    {
        var source = new AnnouncingSource(new ConfigurationSnapshot { Version = 1, ApiScopes = [Api], Clients = [M2m("first")] });
        await using var services = Services(source);
        var clients = await LoadedAsync(services);

        // A false alarm: the check it starts reads version 1, then waits.
        var held = source.HoldNextVersionCheck();
        source.Announce();
        await EventuallyAsync(() => Task.FromResult(source.VersionChecks == 1), "the first check");

        // The real change, announced while that check is still out: it read the old version and must not be the last.
        source.Current = new ConfigurationSnapshot { Version = 2, ApiScopes = [Api], Clients = [M2m("first"), M2m("second")] };
        source.Announce();
        held.SetResult();

        await EventuallyAsync(async () => await clients.FindClientByIdAsync("second", default) is not null, "the change announced during the check");
        Assert.Equal(2, source.VersionChecks);
    }

    /// <summary>A source in memory that says when it changed, as a database notification would.</summary>
    private sealed class AnnouncingSource(ConfigurationSnapshot initial) : IConfigurationSnapshotSource, IConfigurationChangeNotifier
    {
        private CancellationTokenSource _changed = new();
        private TaskCompletionSource? _hold;
        private int _versionChecks;

        public volatile ConfigurationSnapshot Current = initial;

        public int VersionChecks => Volatile.Read(ref _versionChecks);

        public TaskCompletionSource HoldNextVersionCheck() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<long> GetVersionAsync(CancellationToken cancellationToken)
        {
            var version = Current.Version;
            var hold = Interlocked.Exchange(ref _hold, null);
            Interlocked.Increment(ref _versionChecks);
            if (hold is not null)
            {
                await hold.Task.WaitAsync(cancellationToken);
            }

            return version;
        }

        public Task<ConfigurationSnapshot> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(Current);

        public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

        public void Announce() => Interlocked.Exchange(ref _changed, new CancellationTokenSource()).Cancel();
    }
}
