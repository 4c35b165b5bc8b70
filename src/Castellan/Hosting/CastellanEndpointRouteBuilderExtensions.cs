using Castellan.Endpoints.Discovery;
using Castellan.Endpoints.Introspection;
using Castellan.Endpoints.Jwks;
using Castellan.Endpoints.Revocation;
using Castellan.Endpoints.Token;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castellan;

public static class CastellanEndpointRouteBuilderExtensions
{
    /// <summary>Maps the protocol endpoints at the paths in <see cref="CastellanOptions.Endpoints"/>.</summary>
    public static IEndpointConventionBuilder MapCastellan(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var paths = services.GetRequiredService<IOptions<CastellanOptions>>().Value.Endpoints;
        var discovery = services.GetRequiredService<DiscoveryEndpoint>();
        var jwks = services.GetRequiredService<JwksEndpoint>();
        var token = services.GetRequiredService<TokenEndpoint>();
        var introspection = services.GetRequiredService<IntrospectionEndpoint>();
        var revocation = services.GetRequiredService<RevocationEndpoint>();

        // Every method is routed to the endpoint, which answers wrong methods itself with a protocol error
        // (or 405), instead of the framework's bare 405.
        var group = endpoints.MapGroup("");
        group.Map(paths.Discovery, (RequestDelegate)discovery.ProcessAsync).WithDisplayName("Castellan discovery");
        group.Map(paths.Jwks, (RequestDelegate)jwks.ProcessAsync).WithDisplayName("Castellan JWKS");
        group.Map(paths.Token, (RequestDelegate)token.ProcessAsync).WithDisplayName("Castellan token endpoint");
        group.Map(paths.Introspection, (RequestDelegate)introspection.ProcessAsync).WithDisplayName("Castellan introspection endpoint");
        group.Map(paths.Revocation, (RequestDelegate)revocation.ProcessAsync).WithDisplayName("Castellan revocation endpoint");
        return group;
    }
}
