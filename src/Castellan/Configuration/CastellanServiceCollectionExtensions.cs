using Castellan.Clients;
using Castellan.Endpoints.Discovery;
using Castellan.Endpoints.Introspection;
using Castellan.Endpoints.Jwks;
using Castellan.Endpoints.Revocation;
using Castellan.Endpoints.Token;
using Castellan.Endpoints.Token.Grants;
using Castellan.Hosting;
using Castellan.Keys;
using Castellan.Resources;
using Castellan.Stores;
using Castellan.Tokens;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan;

public static class CastellanServiceCollectionExtensions
{
    /// <summary>
    /// Adds the token service. Safe to call more than once; replaceable services are registered with
    /// <c>TryAdd</c>, so a registration of your own made before or after wins.
    /// </summary>
    public static ICastellanBuilder AddCastellan(this IServiceCollection services, Action<CastellanOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CastellanOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CastellanOptions>, CastellanOptionsValidator>());
        options.ValidateOnStart();

        services.AddDataProtection();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InMemoryConfiguration>();
        services.TryAddSingleton<StaticKeys>();
        services.TryAddSingleton<IClientStore, InMemoryClientStore>();
        services.TryAddSingleton<IResourceStore, InMemoryResourceStore>();
        services.TryAddSingleton<ISigningKeyStore>(sp => new FileSystemSigningKeyStore(
            ResolveKeyPath(sp), sp.GetRequiredService<ILogger<FileSystemSigningKeyStore>>()));

        services.TryAddSingleton<KeyRingProvider>();
        services.TryAddSingleton<ResourceIndexProvider>();
        services.TryAddSingleton<IssuerResolver>();
        services.TryAddSingleton<ClientAuthenticator>();
        services.TryAddSingleton<JwtAccessTokenCreator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, ClientCredentialsGrantValidator>());
        services.TryAddSingleton<TokenRequestValidator>();
        services.TryAddSingleton<TokenResponseGenerator>();
        services.TryAddSingleton<TokenEndpoint>();
        services.TryAddSingleton<DiscoveryEndpoint>();
        services.TryAddSingleton<JwksEndpoint>();
        services.TryAddSingleton<IPersistedGrantStore, InMemoryPersistedGrantStore>();
        services.TryAddSingleton<ReferenceTokenService>();
        services.TryAddSingleton<AccessTokenValidator>();
        services.TryAddSingleton<IntrospectionCallerAuthenticator>();
        services.TryAddSingleton<IntrospectionResponseWriter>();
        services.TryAddSingleton<IntrospectionEndpoint>();
        services.TryAddSingleton<RevocationEndpoint>();
        services.TryAddSingleton<CastellanStartupValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CastellanStartupValidator>(sp => sp.GetRequiredService<CastellanStartupValidator>()));
        return new CastellanBuilder(services);
    }

    private static string ResolveKeyPath(IServiceProvider services)
    {
        var path = services.GetRequiredService<IOptions<CastellanOptions>>().Value.KeyManagement.KeyPath;
        var root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
        return Path.IsPathRooted(path) ? path : Path.Combine(root, path);
    }
}
