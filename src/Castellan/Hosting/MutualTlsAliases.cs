using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Hosting;

/// <summary>
/// The mutual TLS endpoint aliases (RFC 8705 §5): the same endpoints under <see cref="MutualTlsOptions.EndpointBaseUrl"/>,
/// and whether a request arrived there.
/// </summary>
internal sealed class MutualTlsAliases(IOptions<CastellanOptions> options)
{
    private readonly Uri? _base = options.Value.MutualTls is { Enabled: true, EndpointBaseUrl: { } url } && Uri.TryCreate(url.TrimEnd('/'), UriKind.Absolute, out var uri)
        ? uri
        : null;

    /// <summary>The aliases' base URL without a trailing slash, or null when there are none (mutual TLS off, or on without aliases).</summary>
    public string? BaseUrl => _base?.OriginalString;

    /// <summary>
    /// The base URL of the endpoint <paramref name="context"/> was sent to: the alias base for a request at the alias,
    /// else the issuer. A DPoP proof names the URL the client called (RFC 9449 §4.3): this plus the endpoint's path.
    /// </summary>
    public string EndpointBaseFor(HttpContext context, string issuer)
        => _base is not null && IsAlias(context.Request, _base) ? _base.OriginalString : issuer;

    // Scheme, host (any case) and port (a default one written or not), and the path base: how the request was
    // addressed, the way an issuer is derived from it.
    private static bool IsAlias(HttpRequest request, Uri alias)
    {
        var port = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return string.Equals(request.Scheme, alias.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(request.Host.Host, alias.IdnHost, StringComparison.OrdinalIgnoreCase)
            && port == alias.Port
            && string.Equals(request.PathBase.Value ?? "", alias.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal);
    }
}
