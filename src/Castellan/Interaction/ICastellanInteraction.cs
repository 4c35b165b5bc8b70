using Microsoft.AspNetCore.Http;

namespace Castellan.Interaction;

/// <summary>
/// What the login, consent, logout and error pages need from the protocol engine. The pages never see protocol
/// parameters: they get a return URL (login, consent), a logout id or an error id, and ask this service what it
/// means. A return URL is valid only when it leads back into the authorize flow of this server, so a page that
/// redirects only to URLs this service accepts cannot become an open redirector.
/// </summary>
public interface ICastellanInteraction
{
    /// <summary>Whether <paramref name="returnUrl"/> is an authorize-flow URL this server issued (and not expired).</summary>
    bool IsValidReturnUrl(string? returnUrl);

    /// <returns>The pending authorization request behind <paramref name="returnUrl"/>, or null when the URL is not valid.</returns>
    ValueTask<AuthorizationContext?> GetAuthorizationContextAsync(string? returnUrl, CancellationToken cancellationToken);

    /// <summary>
    /// Records the user's consent decision (remembered when <see cref="ConsentDecision.Remember"/> and the client
    /// allows it) and returns the URL to send the browser to next: back into the authorize flow, which answers the
    /// client (with a code, or with <c>access_denied</c> when the user denied).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="returnUrl"/> is not valid.</exception>
    ValueTask<string> GrantConsentAsync(HttpContext httpContext, string returnUrl, ConsentDecision decision, CancellationToken cancellationToken);

    /// <summary>
    /// The user cancelled (at login or consent): returns the URL that answers the client with <c>access_denied</c>
    /// (RFC 6749 §4.1.2.1).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="returnUrl"/> is not valid.</exception>
    string DenyAuthorization(string returnUrl);

    /// <returns>What a logout request asked for, or a context for a logout the user started here when <paramref name="logoutId"/> is null or invalid.</returns>
    ValueTask<LogoutContext> GetLogoutContextAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the user's session: signs out the session cookie, revokes what was issued for the session that does not
    /// outlive it, and queues back-channel logout notifications (sent in the background, with retries).
    /// </summary>
    /// <returns>What the logged-out page shows: front-channel iframes and the way back to the client.</returns>
    ValueTask<LoggedOutContext> SignOutAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken);

    /// <returns>The error behind <paramref name="errorId"/>, or null when the id is not one this server issued.</returns>
    ErrorContext? GetErrorContext(string? errorId);
}

/// <summary>A pending authorization request, as the login and consent pages see it.</summary>
public sealed class AuthorizationContext
{
    public required Client Client { get; init; }

    /// <summary>The scopes the client asked for, as the consent page lists them.</summary>
    public required IReadOnlyList<ConsentScope> Scopes { get; init; }

    /// <summary>OIDC Core §3.1.2.1 <c>login_hint</c>: a username to prefill, if the client sent one.</summary>
    public string? LoginHint { get; init; }

    /// <summary>OIDC Core §3.1.2.1 <c>ui_locales</c>, space-separated, in order of preference.</summary>
    public string? UiLocales { get; init; }

    /// <summary>OIDC Core §3.1.2.1 <c>acr_values</c>, space-separated.</summary>
    public string? AcrValues { get; init; }

    /// <summary>
    /// Whether the user must sign in even with a session (<c>prompt=login</c>, <c>prompt=select_account</c>, or
    /// <c>max_age</c> exceeded): the login page then asks for credentials instead of offering to continue.
    /// </summary>
    public bool ReauthenticationRequired { get; init; }

    /// <summary>The URL this context was read from: where the page sends the browser once the user signed in.</summary>
    public required string ReturnUrl { get; init; }
}

/// <summary>One requested scope on the consent page.</summary>
public sealed record ConsentScope(string Name, string DisplayName, string? Description, bool Required, bool Emphasize, bool IsIdentityScope);

/// <summary>The user's answer on the consent page.</summary>
public sealed class ConsentDecision
{
    /// <summary>False when the user denied: the client gets <c>access_denied</c>.</summary>
    public bool Allow { get; init; }

    /// <summary>The scopes the user accepted (required scopes are always granted when <see cref="Allow"/> is true).</summary>
    public IReadOnlyCollection<string> ScopesGranted { get; init; } = [];

    /// <summary>Remember this decision for the client, so the next authorization skips the consent page.</summary>
    public bool Remember { get; init; }
}

/// <summary>A logout request, as the logout page sees it.</summary>
public sealed class LogoutContext
{
    /// <summary>The client that sent the user here (from <c>id_token_hint</c> or <c>client_id</c>), if any.</summary>
    public Client? Client { get; init; }

    /// <summary>
    /// Whether the page must ask before logging out. False only when an <c>id_token_hint</c> proved the request
    /// comes from a client of the user's current session (RP-Initiated Logout 1.0 §2: otherwise a link on any site
    /// could log the user out).
    /// </summary>
    public bool ShowSignOutPrompt { get; init; } = true;

    /// <summary>Whether anyone is signed in at all.</summary>
    public bool IsAuthenticated { get; init; }

    /// <summary>The id the page carries to <see cref="ICastellanInteraction.SignOutAsync"/>.</summary>
    public string? LogoutId { get; init; }
}

/// <summary>What the logged-out page shows.</summary>
public sealed class LoggedOutContext
{
    /// <summary>Where to send the user back (the client's registered <c>post_logout_redirect_uri</c> with <c>state</c>), if the client asked.</summary>
    public string? PostLogoutRedirectUri { get; init; }

    public string? ClientName { get; init; }

    /// <summary>OpenID Connect Front-Channel Logout 1.0: URLs to render in hidden iframes, with <c>iss</c> and <c>sid</c> where the client asked for them.</summary>
    public IReadOnlyList<string> FrontChannelLogoutUrls { get; init; } = [];
}

/// <summary>An error the authorize or end-session endpoint could not send to a client (unknown client, unregistered redirect URI).</summary>
/// <param name="Description">Server-written text, never the request's own input.</param>
/// <param name="RequestId">The id of the request in the server's log, for support.</param>
public sealed record ErrorContext(string Error, string Description, string RequestId, DateTimeOffset Time);
