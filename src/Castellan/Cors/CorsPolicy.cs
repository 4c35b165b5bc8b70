using System.Collections.Frozen;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;

namespace Castellan.Cors;

/// <summary>Which browser origins may call Castellan's endpoints from scripts (CORS).</summary>
public interface ICorsPolicyService
{
    /// <returns>Whether some enabled client lists <paramref name="origin"/> in <see cref="Client.AllowedCorsOrigins"/>.</returns>
    ValueTask<bool> IsOriginAllowedAsync(string origin, CancellationToken cancellationToken);
}

/// <summary>The origins of the in-memory clients, compared ordinally (as browsers send them: scheme, host, port, lower case).</summary>
internal sealed class InMemoryCorsPolicyService(InMemoryConfiguration configuration) : ICorsPolicyService
{
    private readonly FrozenSet<string> _origins = configuration.Clients.Where(c => c.Enabled)
        .SelectMany(c => c.AllowedCorsOrigins).ToFrozenSet(StringComparer.Ordinal);

    public ValueTask<bool> IsOriginAllowedAsync(string origin, CancellationToken cancellationToken) => ValueTask.FromResult(_origins.Contains(origin));
}

/// <summary>Who an endpoint answers cross-origin.</summary>
internal enum CorsMode
{
    /// <summary>No CORS headers: the authorize and end-session endpoints are reached by navigation, never by script.</summary>
    None,

    /// <summary>Any origin: discovery and the JWKS are public documents.</summary>
    Any,

    /// <summary>Only the clients' <see cref="Client.AllowedCorsOrigins"/> (token, userinfo, revocation).</summary>
    Clients,
}

/// <summary>
/// CORS for the protocol endpoints without ASP.NET Core's middleware, so an app hosting Castellan keeps its own CORS
/// policy for everything else: preflights are answered here, and allowed origins get their headers on responses.
/// Credentials (cookies) are never allowed: these endpoints authenticate with tokens and client credentials.
/// </summary>
internal static class CorsHandler
{
    private const string AllowedHeaders = "Authorization, Content-Type, DPoP";

    public static RequestDelegate Wrap(RequestDelegate next, CorsMode mode, ICorsPolicyService policy, string methods)
    {
        if (mode == CorsMode.None)
        {
            return next;
        }

        return async context =>
        {
            var origin = context.Request.Headers.Origin;
            var allowed = origin.Count == 1 && !string.IsNullOrEmpty(origin[0])
                          && (mode == CorsMode.Any || await policy.IsOriginAllowedAsync(origin[0]!, context.RequestAborted).ConfigureAwait(false));
            if (mode == CorsMode.Clients)
            {
                // The answer depends on the Origin header: caches must keep one per origin.
                context.Response.Headers.Vary = "Origin";
            }

            if (HttpMethods.IsOptions(context.Request.Method) && context.Request.Headers.ContainsKey("Access-Control-Request-Method"))
            {
                // A preflight: 204 with the grant, or 204 without (the browser then refuses the real request).
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                if (allowed)
                {
                    context.Response.Headers.AccessControlAllowOrigin = mode == CorsMode.Any ? "*" : origin[0];
                    context.Response.Headers.AccessControlAllowMethods = methods;
                    context.Response.Headers.AccessControlAllowHeaders = AllowedHeaders;
                    context.Response.Headers.AccessControlMaxAge = "600";
                }

                return;
            }

            if (allowed)
            {
                context.Response.Headers.AccessControlAllowOrigin = mode == CorsMode.Any ? "*" : origin[0];
                context.Response.Headers.AccessControlExposeHeaders = "WWW-Authenticate, DPoP-Nonce";
            }

            await next(context).ConfigureAwait(false);
        };
    }
}
