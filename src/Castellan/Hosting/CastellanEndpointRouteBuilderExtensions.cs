using Castellan.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Castellan;

public static class CastellanEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the enabled protocol endpoints at the paths in <see cref="CastellanOptions.Endpoints"/> (those with an
    /// <c>Enable…Endpoint</c> switch set to false are not mapped, and discovery does not list them).
    /// </summary>
    public static IEndpointConventionBuilder MapCastellan(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var paths = services.GetRequiredService<IOptions<CastellanOptions>>().Value.Endpoints;
        var cors = services.GetRequiredService<Cors.ICorsPolicyService>();

        // Every method is routed to the endpoint, which answers wrong methods itself with a protocol error
        // (or 405), instead of the framework's bare 405.
        var group = endpoints.MapGroup("");
        foreach (var endpoint in CastellanEndpointDefinitions.All)
        {
            if (endpoint.IsEnabled(paths))
            {
                var handler = Cors.CorsHandler.Wrap(endpoint.Handler(services), endpoint.Cors, cors, endpoint.Methods);
                group.Map(endpoint.Path(paths), handler).WithDisplayName(endpoint.DisplayName);
            }
        }

        return group;
    }
}
