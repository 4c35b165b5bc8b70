using Castellan.Endpoints.Jwks;
using Castellan.Hosting;
using Castellan.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Castellan.Tests.Endpoints;

/// <summary>
/// The JWKS when no key ring can be built (the key store is unreachable and nothing is cached): 503 with
/// Retry-After, not an unhandled exception. A running server keeps its last ring through store outages, so
/// this is the state of a node whose store failed before its first ring.
/// </summary>
public sealed class JwksOutageTests
{
    [Fact]
    public async Task Key_store_failure_answers_503_with_retry_after()
    {
        var options = Options.Create(new CastellanOptions());
        using var keys = new KeyRingProvider(new StaticKeys(), new FailingKeyStore(), new EphemeralDataProtectionProvider(), TimeProvider.System,
            options, NullLogger<KeyRingProvider>.Instance);
        var endpoint = new JwksEndpoint(keys, new IssuerResolver(options), options, NullLogger<JwksEndpoint>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Response.Body = new MemoryStream();

        await endpoint.ProcessAsync(context);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("30", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(0, context.Response.Body.Length);
    }

    private sealed class FailingKeyStore : ISigningKeyStore
    {
        public Task<IReadOnlyList<SerializedKey>> LoadKeysAsync(CancellationToken cancellationToken) => throw new IOException("down");

        public Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken) => throw new IOException("down");

        public Task DeleteKeyAsync(string id, CancellationToken cancellationToken) => throw new IOException("down");
    }
}
