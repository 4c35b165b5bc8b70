using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace WebApp.Logout;

/// <summary>The two endpoints through which Castellan ends this app's sessions when the user logs out there.</summary>
public static partial class LogoutEndpoints
{
    public const string FrontChannelPath = "/frontchannel-logout";
    public const string BackChannelPath = "/backchannel-logout";

    public static IEndpointRouteBuilder MapLogoutEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(FrontChannelPath, FrontChannelLogoutAsync);
        endpoints.MapPost(BackChannelPath, BackChannelLogoutAsync);
        return endpoints;
    }

    /// <summary>
    /// OpenID Connect Front-Channel Logout 1.0 §2: Castellan's logged-out page loads this URL in an iframe, with
    /// <c>iss</c> and <c>sid</c>. The cookie session ends only when both match it (§3: an RP checks them).
    /// </summary>
    private static async Task<IResult> FrontChannelLogoutAsync(HttpContext context, string? iss, string? sid,
        WebAppSettings settings, LoggedOutSessions sessions, IOptionsMonitor<OpenIdConnectOptions> oidcOptions, TimeProvider time)
    {
        var headers = context.Response.Headers;
        // Only Castellan's page may frame this one; anyone else could log the user out unseen (clickjacking).
        headers.ContentSecurityPolicy = $"frame-ancestors {settings.AuthorityOrigin}";
        // §2: the response must not be cached, or a second logout would not reach the app.
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";

        var ended = false;
        var session = await context.AuthenticateAsync(WebAppApp.CookieScheme);
        if (session.Succeeded && iss is not null && sid is not null)
        {
            var configuration = await oidcOptions.Get(WebAppApp.OidcScheme).ConfigurationManager!.GetConfigurationAsync(context.RequestAborted);
            if (string.Equals(iss, configuration.Issuer, StringComparison.Ordinal)
                && string.Equals(sid, session.Principal!.FindFirst("sid")?.Value, StringComparison.Ordinal))
            {
                await context.SignOutAsync(WebAppApp.CookieScheme);
                ended = true;
            }
        }

        sessions.AddFrontChannel(iss, sid, ended, time.GetUtcNow());
        return Results.Content("<!DOCTYPE html><title>Signed out</title>", "text/html; charset=utf-8");
    }

    /// <summary>
    /// OpenID Connect Back-Channel Logout 1.0 §2.5: Castellan POSTs a signed <c>logout_token</c>. 200 when the session
    /// is (or already was) logged out, 400 when the token is not valid (§2.8).
    /// </summary>
    private static async Task<IResult> BackChannelLogoutAsync(HttpContext context, LogoutTokenValidator validator,
        LoggedOutSessions sessions, TimeProvider time, ILoggerFactory loggers)
    {
        // §2.8: the response must not be cached.
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers.Pragma = "no-cache";
        var logger = loggers.CreateLogger(typeof(LogoutEndpoints));
        if (!context.Request.HasFormContentType)
        {
            LogRejected(logger, "the request is not application/x-www-form-urlencoded");
            return Results.BadRequest();
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var validation = await validator.ValidateAsync(form["logout_token"].Count == 1 ? form["logout_token"][0] : null, context.RequestAborted);
        if (validation.Token is not { } token)
        {
            LogRejected(logger, validation.Error!);
            return Results.BadRequest();
        }

        if (!sessions.AddBackChannel(token, time.GetUtcNow()))
        {
            LogRejected(logger, "the token's jti was used before");
            return Results.BadRequest();
        }

        LogAccepted(logger, token.SessionId, token.Subject);
        return Results.Ok();
    }

    [LoggerMessage(1, LogLevel.Information, "Back-channel logout token refused: {Reason}.", EventName = "LogoutTokenRejected")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(2, LogLevel.Information, "Back-channel logout: session {SessionId} of {Subject} ended.", EventName = "BackChannelLogout")]
    private static partial void LogAccepted(ILogger logger, string? sessionId, string? subject);
}
