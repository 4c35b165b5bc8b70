using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Castellan.Interaction;

/// <summary>Sends the browser to the interaction pages (<see cref="UserInteractionOptions"/>), from any endpoint.</summary>
internal static class InteractionPages
{
    /// <summary>A page's URL: local paths under the request's path base, absolute URLs (a separate UI app) as they are.</summary>
    public static string Url(HttpContext context, string page) => page.StartsWith('/') ? context.Request.PathBase + page : page;

    /// <summary>A page's URL with one query parameter appended.</summary>
    public static string Url(HttpContext context, string page, string parameter, string value)
    {
        var url = Url(context, page);
        return url + (url.Contains('?', StringComparison.Ordinal) ? '&' : '?') + Uri.EscapeDataString(parameter) + "=" + Uri.EscapeDataString(value);
    }

    /// <summary>
    /// Redirects to the error page with an error id that carries only server-written text, so the page cannot be made
    /// to show an attacker's.
    /// </summary>
    /// <returns>The request id the page shows, for the caller's log line.</returns>
    public static string RedirectToError(HttpContext context, InteractionTickets tickets, UserInteractionOptions pages, string error, string description)
    {
        var requestId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        var errorId = tickets.Protect(new ErrorTicket(error, description, requestId, tickets.Now));
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect(Url(context, pages.ErrorUrl, pages.ErrorIdParameter, errorId));
        return requestId;
    }
}
