using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace WebApp.Logout;

/// <summary>
/// Sessions Castellan said have ended, kept in memory: a back-channel logout arrives without the user's cookie, so
/// the cookie is refused at its next request instead. A real app with several instances keeps this in a shared
/// store. It also keeps a short history of the logout requests received, which the sample's tests read.
/// </summary>
public sealed class LoggedOutSessions
{
    private const int HistoryLength = 100;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessionIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _subjects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _tokenIds = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<LogoutNotification> _received = new();

    /// <summary>The most recent logout requests, front- and back-channel, oldest first.</summary>
    public IReadOnlyList<LogoutNotification> Received => [.. _received];

    /// <summary>
    /// Back-Channel Logout 1.0 §2.7: with a <c>sid</c>, that session ends; with only a <c>sub</c>, every session of
    /// the user does. Returns false when the token's <c>jti</c> was seen before (a replay).
    /// </summary>
    public bool AddBackChannel(ValidatedLogoutToken token, DateTimeOffset now)
    {
        if (token.TokenId is { } jti && !_tokenIds.TryAdd(jti, 0))
        {
            return false;
        }

        if (token.SessionId is { } sid)
        {
            _sessionIds[sid] = now;
        }
        else if (token.Subject is { } sub)
        {
            _subjects[sub] = now;
        }

        Record(new LogoutNotification(LogoutChannel.BackChannel, token.Issuer, token.SessionId, token.Subject, now, EndedSession: true));
        return true;
    }

    public void AddFrontChannel(string? issuer, string? sessionId, bool endedSession, DateTimeOffset now)
    {
        if (endedSession && sessionId is not null)
        {
            _sessionIds[sessionId] = now;
        }

        Record(new LogoutNotification(LogoutChannel.FrontChannel, issuer, sessionId, Subject: null, now, endedSession));
    }

    /// <summary>
    /// Whether a cookie session of this <c>sid</c> and <c>sub</c>, issued at <paramref name="issuedAt"/>, has been
    /// logged out. A logout by <c>sub</c> ends the sessions that existed then, not the user's later sign-ins.
    /// </summary>
    public bool IsLoggedOut(string? sessionId, string? subject, DateTimeOffset? issuedAt)
        => (sessionId is not null && _sessionIds.ContainsKey(sessionId))
           || (subject is not null && _subjects.TryGetValue(subject, out var loggedOutAt) && (issuedAt is null || issuedAt <= loggedOutAt));

    /// <summary>For <see cref="CookieAuthenticationEvents.OnValidatePrincipal"/>: refuses and removes a logged-out session's cookie.</summary>
    public static async Task RejectLoggedOutAsync(CookieValidatePrincipalContext context)
    {
        var sessions = context.HttpContext.RequestServices.GetRequiredService<LoggedOutSessions>();
        var principal = context.Principal;
        if (principal is not null && sessions.IsLoggedOut(principal.FindFirst("sid")?.Value, principal.FindFirst("sub")?.Value, context.Properties.IssuedUtc))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(WebAppApp.CookieScheme);
        }
    }

    private void Record(LogoutNotification notification)
    {
        _received.Enqueue(notification);
        while (_received.Count > HistoryLength && _received.TryDequeue(out _))
        {
        }
    }
}

public enum LogoutChannel
{
    FrontChannel,
    BackChannel,
}

/// <summary>A logout request as received: which channel, for which session, and whether it ended a session here.</summary>
public sealed record LogoutNotification(LogoutChannel Channel, string? Issuer, string? SessionId, string? Subject, DateTimeOffset ReceivedAt, bool EndedSession);
