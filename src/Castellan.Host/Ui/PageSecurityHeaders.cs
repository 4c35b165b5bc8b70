using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Net.Http.Headers;

namespace Castellan.Host.Ui;

/// <summary>
/// Security headers for the sign-in pages, and only for them: the protocol endpoints answer programs and keep their
/// own headers. Written when the response starts, so every answer of a page has them, including a refused
/// antiforgery token (400) or a throttled sign-in (429). A page widens the policy only through
/// <see cref="AllowFormTargets"/> and <see cref="AllowFrames"/>.
/// </summary>
internal sealed class PageSecurityHeaders(RequestDelegate next, PageAssets assets)
{
    private static readonly object FormTargetsKey = new();
    private static readonly object FramesKey = new();

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<PageActionDescriptor>() is not null)
        {
            context.Response.OnStarting(static state =>
            {
                var (self, httpContext) = ((PageSecurityHeaders, HttpContext))state;
                self.Write(httpContext);
                return Task.CompletedTask;
            }, (this, context));
        }

        return next(context);
    }

    /// <summary>
    /// Where a form of this page may lead. Browsers (Chromium does) check <c>form-action</c> on every redirect that
    /// follows a form submission, and sign-in and consent end in a redirect to the client's redirect URI: its origin
    /// must be allowed, or the browser stops on the last hop.
    /// </summary>
    public static void AllowFormTargets(HttpContext context, IEnumerable<string> uris)
        => Add(context, FormTargetsKey, uris);

    /// <summary>The origins the logged-out page loads front-channel logout iframes from.</summary>
    public static void AllowFrames(HttpContext context, IEnumerable<string> uris)
        => Add(context, FramesKey, uris);

    private static void Add(HttpContext context, object key, IEnumerable<string> uris)
    {
        if (context.Items[key] is not SortedSet<string> sources)
        {
            sources = new SortedSet<string>(StringComparer.Ordinal);
            context.Items[key] = sources;
        }

        foreach (var uri in uris)
        {
            if (CspSource.FromUri(uri) is { } source)
            {
                sources.Add(source);
            }
        }
    }

    private void Write(HttpContext context)
    {
        var headers = context.Response.Headers;
        var formTargets = context.Items[FormTargetsKey] is SortedSet<string> { Count: > 0 } targets ? " " + string.Join(' ', targets) : "";
        var frames = context.Items[FramesKey] is SortedSet<string> { Count: > 0 } origins ? string.Join(' ', origins) : "'none'";
        headers.ContentSecurityPolicy =
            $"default-src 'self'; style-src {assets.StyleHash}; script-src {assets.ScriptHash}; img-src 'self' https:; " +
            $"frame-src {frames}; frame-ancestors 'none'; form-action 'self'{formTargets}; base-uri 'none'; object-src 'none'";

        // X-Frame-Options for browsers that do not know frame-ancestors (RFC 7034); where both are known, CSP wins.
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";

        // Pages carry antiforgery tokens, pending requests and who is signed in: no cache may keep them.
        headers.CacheControl = "no-store";
        headers.Pragma = "no-cache";
        headers.Remove(HeaderNames.Expires);
    }
}

/// <summary>CSP source expressions (CSP Level 3 host-source and scheme-source) for the URIs a page may lead to.</summary>
internal static class CspSource
{
    /// <returns>
    /// The URI's origin for http(s), with any port for a loopback redirect URI (RFC 8252 §7.3 lets the port vary);
    /// the scheme alone for a private-use scheme (RFC 8252 §7.1); null for anything that cannot be a source.
    /// </returns>
    public static string? FromUri(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            return null;
        }

        if (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
        {
            var host = parsed.HostNameType == UriHostNameType.IPv6 ? $"[{parsed.IdnHost.Trim('[', ']')}]" : parsed.IdnHost;
            if (parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback)
            {
                return $"http://{host}:*";
            }

            return parsed.IsDefaultPort ? $"{parsed.Scheme}://{host}" : $"{parsed.Scheme}://{host}:{parsed.Port}";
        }

        // A private-use scheme such as com.example.app: must be a CSP scheme-source: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        var scheme = parsed.Scheme;
        if (scheme.Length == 0 || !char.IsAsciiLetter(scheme[0]) || scheme == "javascript" || scheme == "data" || scheme == "blob" || scheme == "file")
        {
            return null;
        }

        foreach (var c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return null;
            }
        }

        return scheme + ":";
    }
}
