using Microsoft.AspNetCore.Http;

namespace Castellan.Endpoints;

/// <summary>The HTTP method checks endpoints share: a refused method is 405 with an Allow header.</summary>
internal static class MethodGuard
{
    /// <returns>Whether the request is GET or POST; otherwise 405 with <c>Allow: GET, POST</c> is set.</returns>
    public static bool IsGetOrPost(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsPost(context.Request.Method))
        {
            return true;
        }

        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = "GET, POST";
        return false;
    }
}
