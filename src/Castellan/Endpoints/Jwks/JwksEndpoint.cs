using Castellan.Endpoints.Discovery;
using Castellan.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

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
        if (WellKnown.IfNoneMatch(context.Request, ring.ETag))
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
}
