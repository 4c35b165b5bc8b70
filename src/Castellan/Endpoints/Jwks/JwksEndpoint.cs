using Castellan.Endpoints.Discovery;
using Castellan.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Castellan.Endpoints.Jwks;

/// <summary>
/// The JSON Web Key Set (RFC 7517 §5): public keys only, each with kid, alg and use. The document is
/// serialized once per key ring and answered with an ETag so caches can revalidate cheaply.
/// </summary>
internal sealed class JwksEndpoint(KeyRingProvider keys, IOptions<CastellanOptions> options)
{
    private readonly string _cacheControl = DiscoveryEndpoint.CacheControl(options.Value.Discovery.ResponseCacheDuration);

    public async Task ProcessAsync(HttpContext context)
    {
        if (!WellKnown.IsGetOrHead(context))
        {
            return;
        }

        var ring = await keys.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var response = context.Response;
        response.Headers.CacheControl = _cacheControl;
        response.Headers.ETag = ring.ETag;
        if (Matches(context.Request, ring.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        // RFC 7517 §8.5.
        response.ContentType = "application/jwk-set+json";
        response.ContentLength = ring.JwksJson.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(ring.JwksJson, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// RFC 9110 §13.1.2: If-None-Match is "*" or a list of entity tags, compared weakly. An exact string compare
    /// missed lists (as caches send them) and W/ tags, answering 200 where 304 was due.
    /// </summary>
    private static bool Matches(HttpRequest request, string etag)
    {
        if (request.Headers.IfNoneMatch.Count == 0)
        {
            return false;
        }

        var current = new EntityTagHeaderValue(etag);
        foreach (var tag in request.GetTypedHeaders().IfNoneMatch)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false))
            {
                return true;
            }
        }

        return false;
    }
}
