using Castellan.Diagnostics;
using Castellan.Hosting;
using Castellan.Interaction;
using Castellan.Sessions;
using Castellan.Stores;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Castellan.Endpoints.EndSession;

/// <summary>
/// Ends a user's session: the cookie, what was issued for the session and must not outlive it (reference access
/// tokens, unredeemed codes), and the clients' own sessions through front-channel iframes and back-channel logout
/// tokens (OpenID Connect Front-Channel Logout 1.0, Back-Channel Logout 1.0).
/// </summary>
internal sealed partial class LogoutProcessor(
    InteractionTickets tickets,
    IClientStore clients,
    IPersistedGrantStore grants,
    BackChannelLogoutSender backChannel,
    IssuerResolver issuerResolver,
    ILogger<LogoutProcessor> logger)
{
    public async ValueTask<LogoutContext> GetContextAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
    {
        var ticket = tickets.OpenLogout(logoutId);
        var session = await DefaultSignInService.CurrentSessionAsync(httpContext).ConfigureAwait(false);
        var client = ticket?.ClientId is { } clientId ? await clients.FindClientByIdAsync(clientId, cancellationToken).ConfigureAwait(false) : null;

        // RP-Initiated Logout 1.0 §2: without an id_token_hint naming the user of this session, the request could
        // come from any page, so the user is asked first. Without a session there is nothing to ask about.
        var proven = session is not null && ticket?.HintSubject == session.SubjectId
                     && (ticket.HintSessionId is null || ticket.HintSessionId == session.SessionId);
        return new LogoutContext
        {
            Client = client,
            IsAuthenticated = session is not null,
            ShowSignOutPrompt = session is not null && !proven,
            LogoutId = ticket is null ? null : logoutId,
        };
    }

    public async ValueTask<LoggedOutContext> SignOutAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
    {
        var ticket = tickets.OpenLogout(logoutId);
        var session = await DefaultSignInService.CurrentSessionAsync(httpContext).ConfigureAwait(false);
        var frontChannel = new List<string>();
        if (session is not null)
        {
            await httpContext.SignOutAsync(CastellanSessionDefaults.AuthenticationScheme).ConfigureAwait(false);

            // Access and codes of the session end with it; refresh tokens are issued for offline_access only, which by
            // definition outlives the session (OIDC Core §11), so they stay until revoked or expired.
            await grants.RemoveAllAsync(new PersistedGrantFilter { SessionId = session.SessionId, Type = PersistedGrantTypes.ReferenceToken }, cancellationToken).ConfigureAwait(false);
            await grants.RemoveAllAsync(new PersistedGrantFilter { SessionId = session.SessionId, Type = PersistedGrantTypes.AuthorizationCode }, cancellationToken).ConfigureAwait(false);

            var issuer = issuerResolver.GetIssuer(httpContext);
            var notifications = new List<BackChannelLogoutNotification>();
            foreach (var clientId in session.ClientIds)
            {
                var client = await clients.FindClientByIdAsync(clientId, cancellationToken).ConfigureAwait(false);
                if (client is null || !client.Enabled)
                {
                    continue;
                }

                if (client.FrontChannelLogoutUri is { Length: > 0 } frontUri)
                {
                    frontChannel.Add(client.FrontChannelLogoutSessionRequired
                        ? frontUri + (frontUri.Contains('?', StringComparison.Ordinal) ? "&" : "?")
                          + "iss=" + Uri.EscapeDataString(issuer) + "&sid=" + Uri.EscapeDataString(session.SessionId)
                        : frontUri);
                }

                if (client.BackChannelLogoutUri is { Length: > 0 } backUri)
                {
                    notifications.Add(new BackChannelLogoutNotification(issuer, client.ClientId, backUri, session.SubjectId,
                        client.BackChannelLogoutSessionRequired ? session.SessionId : null));
                }
            }

            await backChannel.EnqueueAsync(notifications, cancellationToken).ConfigureAwait(false);

            CastellanTelemetry.UserLogouts.Add(1);
            LogSignedOut(logger, session.SubjectId, session.ClientIds.Count);
        }

        var clientForReturn = ticket?.ClientId is { } id ? await clients.FindClientByIdAsync(id, cancellationToken).ConfigureAwait(false) : null;
        string? back = null;
        if (ticket?.PostLogoutRedirectUri is { } uri)
        {
            back = ticket.State is null ? uri : uri + (uri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "state=" + Uri.EscapeDataString(ticket.State);
        }

        return new LoggedOutContext
        {
            PostLogoutRedirectUri = back,
            ClientName = clientForReturn?.ClientName ?? clientForReturn?.ClientId,
            FrontChannelLogoutUrls = frontChannel,
        };
    }

    [LoggerMessage(3200, LogLevel.Information, "A user signed out (sub {SubjectId}); {ClientCount} clients of the session are notified.", EventName = "UserSignedOut")]
    private static partial void LogSignedOut(ILogger logger, string subjectId, int clientCount);
}
