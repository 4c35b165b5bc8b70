using Castellan.Endpoints.Discovery;
using Castellan.Hosting;
using Castellan.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Jwks;

/// <summary>
/// The JSON Web Key Set (RFC 7517 §5): public keys only, each with kid, alg and use. The document is
/// serialized once per key ring and answered with an ETag so caches can revalidate cheaply.
/// </summary>
internal sealed class JwksEndpoint(KeyRingProvider keys, IssuerResolver issuer, IOptions<CastellanOptions> options, ILogger<JwksEndpoint> logger)
{
    private readonly string _cacheControl = DiscoveryEndpoint.CacheControl(options.Value.Discovery.ResponseCacheDuration);

    public Task ProcessAsync(HttpContext context) => WellKnown.GuardAsync(context, logger, WriteAsync);

    private async Task WriteAsync(HttpContext context)
    {
        var ring = await keys.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var response = context.Response;
        response.Headers.CacheControl = _cacheControl;
        // The key set itself does not name the issuer, but it is found through a document that does: keep the two
        // keyed alike in caches.
        WellKnown.VaryByHostWhenInferred(response, issuer);
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
