using Castellan.Clients;
using Castellan.Endpoints.Authorize;
using Castellan.Endpoints.EndSession;
using Castellan.Endpoints.UserInfo;
using Castellan.Grants;
using Castellan.Interaction;
using Castellan.Sessions;
using Castellan.Users;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
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
        services.TryAddSingleton<MutualTlsAliases>();
        // The client authentication methods, in the order they are asked and listed in discovery.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.ClientSecretBasic>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.ClientSecretPost>());
        services.TryAddSingleton<Clients.Authentication.PrivateKeyJwt>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.PrivateKeyJwt>(
            sp => sp.GetRequiredService<Clients.Authentication.PrivateKeyJwt>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.ClientSecretJwt>());

        // RFC 8705 §2: offered only with MutualTls.Enabled (the reader leaves them out otherwise).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.TlsClientAuth>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod, Clients.Authentication.SelfSignedTlsClientAuth>());

        // One-time values (client assertions' jti): in memory unless the application registers another cache.
        Castellan.Security.CastellanSecurityServiceCollectionExtensions.AddCastellanReplayCache(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Clients.Authentication.IClientAuthenticationMethod>(Clients.Authentication.NoClientAuthentication.Instance));
        services.TryAddSingleton<Clients.Authentication.ClientRequestReader>();
        services.TryAddSingleton<Clients.Authentication.IClientJwksFetcher, Clients.Authentication.ClientJwksFetcher>();
        services.AddHttpClient(Clients.Authentication.ClientJwksFetcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        services.TryAddSingleton<ClientAuthenticator>();
        services.TryAddSingleton<JwtAccessTokenCreator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, ClientCredentialsGrantValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, AuthorizationCodeGrantValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, RefreshTokenGrantValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, PasswordGrantValidator>());
        services.TryAddSingleton<TokenRequestValidator>();
        services.TryAddSingleton<TokenResponseGenerator>();
        // RFC 9449 proofs at the token endpoint; TryAdd inside, so a validator or options of your own win.
        Castellan.Security.CastellanSecurityServiceCollectionExtensions.AddCastellanDPoPProofValidator(services);
        // Nonces are protected with the server's own Data Protection key ring (shared by its nodes) unless an HMAC key is configured.
        Castellan.Security.CastellanSecurityServiceCollectionExtensions.AddCastellanDPoPNonces(services);
        services.TryAddSingleton<TokenDPoPValidator>();
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
        AddInteractive(services);
        services.TryAddSingleton<ConfigurationRules>();
        services.TryAddSingleton<CastellanStartupValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CastellanStartupValidator>(sp => sp.GetRequiredService<CastellanStartupValidator>()));
        return new CastellanBuilder(services);
    }

    /// <summary>Users, the session cookie, the interaction pages' service, and the endpoints of the interactive flow.</summary>
    private static void AddInteractive(IServiceCollection services)
    {
        services.TryAddSingleton<Cors.ICorsPolicyService, Cors.InMemoryCorsPolicyService>();
        services.TryAddSingleton<InMemoryUsers>();
        services.TryAddSingleton<IUserStore, InMemoryUserStore>();
        services.TryAddSingleton<IProfileService, DefaultProfileService>();
        services.TryAddSingleton<LoginThrottle>();
        services.TryAddSingleton<ICastellanSignInService, DefaultSignInService>();
        services.TryAddSingleton<InteractionTickets>();
        services.TryAddSingleton<ConsentStore>();
        services.TryAddSingleton<ICastellanInteraction, DefaultInteractionService>();
        services.TryAddSingleton<IdentityTokenCreator>();
        services.TryAddSingleton<IdTokenHintValidator>();
        services.TryAddSingleton<RefreshTokenService>();
        services.TryAddSingleton<AuthorizeRequestValidator>();
        services.TryAddSingleton<AuthorizeInteractionDecider>();
        services.TryAddSingleton<AuthorizationCodeIssuer>();
        services.TryAddSingleton<AuthorizeEndpoint>();
        services.TryAddSingleton<UserInfoEndpoint>();
        services.TryAddSingleton<LogoutProcessor>();
        services.TryAddSingleton<EndSessionEndpoint>();
        services.TryAddSingleton<BackChannelLogoutSender>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BackChannelLogoutSender>(sp => sp.GetRequiredService<BackChannelLogoutSender>()));
        services.AddHttpClient(BackChannelLogoutSender.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

        // The single sign-on session: a cookie of its own scheme, never the app's default, so an app hosting Castellan
        // keeps its own authentication.
        // AddCookie twice would throw ("scheme already exists"); AddCastellan is safe to call more than once.
        if (!services.Any(d => d.ServiceType == typeof(SessionSchemeMarker)))
        {
            services.AddSingleton<SessionSchemeMarker>();
            services.AddAuthentication().AddCookie(CastellanSessionDefaults.AuthenticationScheme);
        }

        services.AddOptions<CookieAuthenticationOptions>(CastellanSessionDefaults.AuthenticationScheme)
            .Configure<IOptions<CastellanOptions>>((cookie, castellan) =>
            {
                var session = castellan.Value.Session;
                cookie.Cookie.Name = session.CookieName;
                cookie.Cookie.HttpOnly = true;
                // Lax: sent on the top-level navigations that bring users to /connect/authorize, not on cross-site
                // subrequests (RFC 9700 §4.4 on CSRF against the authorization server).
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.IsEssential = true;
                cookie.ExpireTimeSpan = session.CookieLifetime;
                cookie.SlidingExpiration = session.CookieSlidingExpiration;
                cookie.LoginPath = castellan.Value.UserInteraction.LoginUrl;
                cookie.LogoutPath = castellan.Value.UserInteraction.LogoutUrl;
                cookie.ReturnUrlParameter = castellan.Value.UserInteraction.ReturnUrlParameter;
            });
    }

    private static string ResolveKeyPath(IServiceProvider services)
    {
        var path = services.GetRequiredService<IOptions<CastellanOptions>>().Value.KeyManagement.KeyPath;
        var root = services.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
        return Path.IsPathRooted(path) ? path : Path.Combine(root, path);
    }
}

/// <summary>Marks that the session's cookie scheme is registered.</summary>
internal sealed class SessionSchemeMarker;
