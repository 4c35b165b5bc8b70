using System.Text;
using System.Text.Encodings.Web;
using System.Security.Cryptography;
using Castellan.Protocol;
using Microsoft.AspNetCore.Http;

namespace Castellan.Endpoints.Authorize;

/// <summary>
/// Writes authorization responses to the client's registered redirect URI: in the query (RFC 6749 §4.1.2), the
/// fragment (OAuth 2.0 Multiple Response Type Encoding Practices §2.1) or an auto-submitted form (OAuth 2.0 Form
/// Post Response Mode). Every response carries <c>iss</c> (RFC 9207 §2).
/// </summary>
internal static class AuthorizeResult
{
    // The form_post page's only script; the CSP admits exactly it by hash, so nothing injected could run.
    private const string AutoSubmitScript = "document.forms[0].submit();";
    private static readonly string ScriptHash = "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(AutoSubmitScript))) + "'";

    public static Task WriteAsync(HttpContext context, AuthorizeRedirect redirect, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        // The code must not leak to third parties through the Referer of whatever the client's page loads next.
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (redirect.ResponseMode == ResponseModes.FormPost)
        {
            return WriteFormPostAsync(response, redirect.RedirectUri, parameters);
        }

        var url = new StringBuilder(redirect.RedirectUri);
        var separator = redirect.ResponseMode == ResponseModes.Fragment ? '#' : redirect.RedirectUri.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach (var (name, value) in parameters)
        {
            url.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        // 302, as RFC 6749 §4.1.2 shows; never 307, which would replay a POSTed request body to the client (RFC 9700 §4.12).
        response.StatusCode = StatusCodes.Status302Found;
        response.Headers.Location = url.ToString();
        return Task.CompletedTask;
    }

    /// <summary>The parameters of an error response (RFC 6749 §4.1.2.1, RFC 9207).</summary>
    public static List<KeyValuePair<string, string>> ErrorParameters(ProtocolError error, AuthorizeRedirect redirect, string issuer)
    {
        var parameters = new List<KeyValuePair<string, string>>(4) { new(OAuthParameters.Error, error.Error) };
        if (error.Description is not null)
        {
            parameters.Add(new(OAuthParameters.ErrorDescription, error.Description));
        }

        if (redirect.State is not null)
        {
            parameters.Add(new(OAuthParameters.State, redirect.State));
        }

        parameters.Add(new(OAuthParameters.Issuer, issuer));
        return parameters;
    }

    private static async Task WriteFormPostAsync(HttpResponse response, string redirectUri, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var encoder = HtmlEncoder.Default;
        var html = new StringBuilder(1024);
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Submit</title></head><body>");
        html.Append("<form method=\"post\" action=\"").Append(encoder.Encode(redirectUri)).Append("\">");
        foreach (var (name, value) in parameters)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(encoder.Encode(name)).Append("\" value=\"").Append(encoder.Encode(value)).Append("\">");
        }

        // Without JavaScript the user presses the button; with it, the form goes at once.
        html.Append("<noscript><button type=\"submit\">Continue</button></noscript></form>");
        html.Append("<script>").Append(AutoSubmitScript).Append("</script></body></html>");

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src " + ScriptHash + "; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XFrameOptions = "DENY";
        await response.WriteAsync(html.ToString(), response.HttpContext.RequestAborted).ConfigureAwait(false);
    }
}
