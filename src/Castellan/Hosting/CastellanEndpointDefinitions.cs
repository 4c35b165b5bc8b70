using Castellan.Endpoints.Authorize;
using Castellan.Endpoints.Discovery;
using Castellan.Endpoints.EndSession;
using Castellan.Endpoints.UserInfo;
using Castellan.Endpoints.Introspection;
using Castellan.Endpoints.Jwks;
using Castellan.Endpoints.Revocation;
using Castellan.Endpoints.Token;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.Hosting;

/// <summary>
/// One protocol endpoint: its name in <see cref="EndpointPaths"/>, how it is mapped and shown, whether it is on,
/// and the discovery member that publishes its URL.
/// </summary>
/// <param name="Name">The <see cref="EndpointPaths"/> property that holds its path.</param>
/// <param name="DiscoveryName">The metadata member for its URL (RFC 8414 §2), or null for discovery itself and the authorize callback.</param>
/// <param name="MutualTlsAlias">Whether clients call it with their certificate, so discovery lists it in <c>mtls_endpoint_aliases</c> (RFC 8705 §5).</param>
internal sealed record CastellanEndpointDefinition(
    string Name,
    string DisplayName,
    string? DiscoveryName,
    Func<EndpointPaths, string> Path,
    Func<EndpointPaths, bool> IsEnabled,
    Func<IServiceProvider, RequestDelegate> Handler,
    Cors.CorsMode Cors = Cors.CorsMode.None,
    string Methods = "GET, POST",
    bool MutualTlsAlias = false);

/// <summary>
/// Every protocol endpoint, in one list: <c>MapCastellan</c> maps the enabled ones, options validation checks
/// their paths, discovery publishes their URLs, and the fuzz test finds them by display name. A new endpoint is
/// one line here.
/// </summary>
internal static class CastellanEndpointDefinitions
{
    public static IReadOnlyList<CastellanEndpointDefinition> All { get; } =
    [
        new("Discovery", "Castellan discovery", null, p => p.Discovery, _ => true,
            s => s.GetRequiredService<DiscoveryEndpoint>().ProcessAsync, Cors.CorsMode.Any, "GET"),
        new("Jwks", "Castellan JWKS", "jwks_uri", p => p.Jwks, _ => true,
            s => s.GetRequiredService<JwksEndpoint>().ProcessAsync, Cors.CorsMode.Any, "GET"),
        new("Token", "Castellan token endpoint", "token_endpoint", p => p.Token, p => p.EnableTokenEndpoint,
            s => s.GetRequiredService<TokenEndpoint>().ProcessAsync, Cors.CorsMode.Clients, "POST", MutualTlsAlias: true),
        new("Introspection", "Castellan introspection endpoint", "introspection_endpoint", p => p.Introspection, p => p.EnableIntrospectionEndpoint,
            s => s.GetRequiredService<IntrospectionEndpoint>().ProcessAsync, MutualTlsAlias: true),
        new("Revocation", "Castellan revocation endpoint", "revocation_endpoint", p => p.Revocation, p => p.EnableTokenRevocationEndpoint,
            s => s.GetRequiredService<RevocationEndpoint>().ProcessAsync, Cors.CorsMode.Clients, "POST", MutualTlsAlias: true),
        new("Authorize", "Castellan authorize endpoint", "authorization_endpoint", p => p.Authorize, p => p.EnableAuthorizeEndpoint,
            s => s.GetRequiredService<AuthorizeEndpoint>().ProcessAsync),
        new("AuthorizeCallback", "Castellan authorize callback", null, p => p.AuthorizeCallback, p => p.EnableAuthorizeEndpoint,
            s => s.GetRequiredService<AuthorizeEndpoint>().ProcessCallbackAsync),
        new("UserInfo", "Castellan userinfo endpoint", "userinfo_endpoint", p => p.UserInfo, p => p.EnableUserInfoEndpoint,
            s => s.GetRequiredService<UserInfoEndpoint>().ProcessAsync, Cors.CorsMode.Clients, MutualTlsAlias: true),
        new("EndSession", "Castellan end-session endpoint", "end_session_endpoint", p => p.EndSession, p => p.EnableEndSessionEndpoint,
            s => s.GetRequiredService<EndSessionEndpoint>().ProcessAsync),
    ];
}
