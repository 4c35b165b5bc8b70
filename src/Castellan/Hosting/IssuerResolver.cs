using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Hosting;

/// <summary>The issuer identifier: the configured <see cref="CastellanOptions.IssuerUri"/>, else derived from the request.</summary>
internal sealed class IssuerResolver(IOptions<CastellanOptions> options)
{
    private readonly string? _configured = options.Value.IssuerUri?.TrimEnd('/');

    /// <summary>False when the issuer is taken from each request's Host (no IssuerUri).</summary>
    public bool IsConfigured => _configured is not null;

    public string GetIssuer(HttpContext context)
    {
        if (_configured is not null)
        {
            return _configured;
        }

        var request = context.Request;
        // RFC 8414 §2: the issuer is scheme, host and optional path; host names are case-insensitive, so lower-case them.
        return string.Concat(request.Scheme, "://", request.Host.Value?.ToLowerInvariant(), request.PathBase.Value);
    }

    /// <summary>An absolute URL under the issuer for one of the server's endpoints.</summary>
    public static string Url(string issuer, string path) => issuer + path;
}
