using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Castellan.Security;

/// <summary>
/// Registers the services of this package. Every method is safe to call more than once and uses <c>TryAdd</c>, so a
/// registration of your own (an <see cref="IReplayCache"/> over a store with an atomic insert, say) wins.
/// </summary>
public static class CastellanSecurityServiceCollectionExtensions
{
    /// <summary>
    /// Adds an <see cref="IReplayCache"/>: <see cref="InMemoryReplayCache"/> unless one is registered already, or
    /// <see cref="DistributedReplayCache"/> after <see cref="CastellanReplayCacheBuilder.UseDistributedCache"/>.
    /// </summary>
    public static CastellanReplayCacheBuilder AddCastellanReplayCache(this IServiceCollection services, Action<ReplayCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddValidatedOptions<ReplayCacheOptions, ReplayCacheOptionsValidator>(services, configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InMemoryReplayCache>();
        services.TryAddSingleton<IReplayCache>(sp => sp.GetRequiredService<InMemoryReplayCache>());
        return new CastellanReplayCacheBuilder(services);
    }

    /// <summary>
    /// Adds <see cref="DPoPProofValidator"/> and <see cref="ProofOfPossessionVerifier"/> (singletons) and, unless one is
    /// registered, the in-memory replay cache.
    /// </summary>
    public static IServiceCollection AddCastellanDPoPProofValidator(this IServiceCollection services, Action<DPoPProofValidationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddCastellanReplayCache();
        AddValidatedOptions<DPoPProofValidationOptions, DPoPProofValidationOptionsValidator>(services, configure);
        services.TryAddSingleton<DPoPProofValidator>();
        services.TryAddSingleton<ProofOfPossessionVerifier>();
        return services;
    }

    /// <summary>
    /// Adds <see cref="DPoPNonces"/> (a singleton). Without <see cref="DPoPNonceOptions.HmacKey"/> it uses ASP.NET Core
    /// Data Protection, which this adds with its defaults unless you configure it; in a cluster, share its key ring.
    /// </summary>
    public static IServiceCollection AddCastellanDPoPNonces(this IServiceCollection services, Action<DPoPNonceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddValidatedOptions<DPoPNonceOptions, DPoPNonceOptionsValidator>(services, configure);
        services.AddDataProtection();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DPoPNonces>();
        return services;
    }

    private static void AddValidatedOptions<TOptions, TValidator>(IServiceCollection services, Action<TOptions>? configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var options = services.AddOptions<TOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        options.ValidateOnStart();
    }
}

/// <summary>Chooses the replay cache <see cref="CastellanSecurityServiceCollectionExtensions.AddCastellanReplayCache"/> registers.</summary>
public sealed class CastellanReplayCacheBuilder
{
    internal CastellanReplayCacheBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    /// <summary>
    /// Uses <see cref="DistributedReplayCache"/> over the registered <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/>,
    /// so the nodes of a cluster share one-time values. Register a shared cache (Redis, SQL Server, ...) yourself:
    /// <c>AddDistributedMemoryCache</c> would make it per node again. Replaces any <see cref="IReplayCache"/> registered
    /// so far. Read the remarks of <see cref="DistributedReplayCache"/> on its race window.
    /// </summary>
    public CastellanReplayCacheBuilder UseDistributedCache()
    {
        Services.Replace(ServiceDescriptor.Singleton<IReplayCache>(sp => new DistributedReplayCache(
            sp.GetService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>()
                ?? throw new InvalidOperationException("UseDistributedCache() needs an IDistributedCache that the nodes share: register one (AddStackExchangeRedisCache, AddDistributedSqlServerCache, ...) or leave the replay cache in memory."),
            sp.GetRequiredService<IOptions<ReplayCacheOptions>>(),
            sp.GetRequiredService<TimeProvider>())));
        return this;
    }
}
