using Castellan.Security;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.Tests.Security;

public sealed class SecurityServiceRegistrationTests
{
    [Fact]
    public void Replay_cache_is_in_memory_by_default()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddCastellanReplayCache();
        services.AddCastellanReplayCache();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<InMemoryReplayCache>(provider.GetRequiredService<IReplayCache>());
        Assert.Single(services, d => d.ServiceType == typeof(IReplayCache));
    }

    [Fact]
    public void UseDistributedCache_puts_the_replay_cache_on_the_registered_distributed_cache()
    {
        var services = new ServiceCollection().AddLogging().AddDistributedMemoryCache();
        services.AddCastellanReplayCache(o => o.KeyPrefix = "x:").UseDistributedCache();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<DistributedReplayCache>(provider.GetRequiredService<IReplayCache>());
    }

    [Fact]
    public void UseDistributedCache_without_a_distributed_cache_says_what_is_missing()
    {
        var services = new ServiceCollection();
        services.AddCastellanReplayCache().UseDistributedCache();
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IReplayCache>());
        Assert.Contains(nameof(IDistributedCache), exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_cache_registered_by_the_app_wins()
    {
        var own = new InMemoryReplayCache(Microsoft.Extensions.Options.Options.Create(new ReplayCacheOptions()), TimeProvider.System);
        var services = new ServiceCollection();
        services.AddSingleton<IReplayCache>(own);
        services.AddCastellanDPoPProofValidator();
        using var provider = services.BuildServiceProvider();

        Assert.Same(own, provider.GetRequiredService<IReplayCache>());
        Assert.NotNull(provider.GetRequiredService<DPoPProofValidator>());
    }

    [Fact]
    public void Nonces_use_data_protection_unless_given_a_key()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddCastellanDPoPNonces();
        using var provider = services.BuildServiceProvider();

        var nonces = provider.GetRequiredService<DPoPNonces>();
        Assert.True(nonces.IsValid(nonces.GetCurrentNonce()));
    }
}
