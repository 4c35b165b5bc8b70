using Castellan.Endpoints.Authorize;
using Castellan.Endpoints.EndSession;
using Castellan.Grants;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Sessions;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Interaction;

internal sealed class DefaultInteractionService(
    InteractionTickets tickets,
    IClientStore clients,
    ResourceIndexProvider resources,
    ConsentStore consents,
    LogoutProcessor logout,
    IOptions<CastellanOptions> options) : ICastellanInteraction
{
    private const string TicketParameter = "ticket=";
    private readonly CastellanOptions _options = options.Value;

    public bool IsValidReturnUrl(string? returnUrl) => OpenReturnUrl(returnUrl) is not null;

    public async ValueTask<AuthorizationContext?> GetAuthorizationContextAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        var ticket = OpenReturnUrl(returnUrl);
        if (ticket is null)
        {
            return null;
        }

        var parameters = new AuthorizeParameters(ticket.Parameters);
        var clientId = parameters.Get(OAuthParameters.ClientId);
        var client = clientId is null ? null : await clients.FindClientByIdAsync(clientId, cancellationToken).ConfigureAwait(false);
        if (client is null || !client.Enabled)
        {
            return null;
        }

        var index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);
        return new AuthorizationContext
        {
            Client = client,
            Scopes = DescribeScopes(parameters.Get(OAuthParameters.Scope), client, index),
            LoginHint = parameters.Get(OAuthParameters.LoginHint),
            UiLocales = parameters.Get(OAuthParameters.UiLocales),
            AcrValues = parameters.Get(OAuthParameters.AcrValues),
            ReauthenticationRequired = ticket.Reauthenticate,
            ReturnUrl = returnUrl!,
        };
    }

    public async ValueTask<string> GrantConsentAsync(HttpContext httpContext, string returnUrl, ConsentDecision decision, CancellationToken cancellationToken)
    {
        var ticket = OpenReturnUrl(returnUrl) ?? throw new ArgumentException("The return URL is not a valid authorize-flow URL of this server.", nameof(returnUrl));
        if (!decision.Allow)
        {
            return WithTicket(returnUrl, ticket with { Denied = true });
        }

        var context = await GetAuthorizationContextAsync(returnUrl, cancellationToken).ConfigureAwait(false);
        var requested = context?.Scopes.Select(s => s.Name).ToHashSet(StringComparer.Ordinal) ?? [];
        var granted = decision.ScopesGranted.Where(requested.Contains)
            .Concat(context?.Scopes.Where(s => s.Required).Select(s => s.Name) ?? [])
            .Distinct(StringComparer.Ordinal).ToArray();

        var session = await DefaultSignInService.CurrentSessionAsync(httpContext).ConfigureAwait(false);
        if (decision.Remember && context is { Client.AllowRememberConsent: true } && session is not null && granted.Length > 0)
        {
            // Remembered as exactly what was granted: a later request for more asks again.
            await consents.StoreAsync(session.SubjectId, context.Client, granted, cancellationToken).ConfigureAwait(false);
        }

        if (session is null)
        {
            // Nobody to consent for: back into the flow, which sends the browser to the login page.
            return returnUrl;
        }

        return WithTicket(returnUrl, ticket with { ConsentedScopes = granted, ConsentSubject = session.SubjectId });
    }

    public string DenyAuthorization(string returnUrl)
    {
        var ticket = OpenReturnUrl(returnUrl) ?? throw new ArgumentException("The return URL is not a valid authorize-flow URL of this server.", nameof(returnUrl));
        return WithTicket(returnUrl, ticket with { Denied = true });
    }

    public ValueTask<LogoutContext> GetLogoutContextAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
        => logout.GetContextAsync(httpContext, logoutId, cancellationToken);

    public ValueTask<LoggedOutContext> SignOutAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
        => logout.SignOutAsync(httpContext, logoutId, cancellationToken);

    public ErrorContext? GetErrorContext(string? errorId)
        => tickets.OpenError(errorId) is { } error
            ? new ErrorContext(error.Error, error.Description, error.RequestId, DateTimeOffset.FromUnixTimeSeconds(error.Time))
            : null;

    /// <summary>
    /// Only a local URL of the form <c>[path base]/connect/authorize/callback?ticket=...</c> whose ticket opens: no
    /// scheme, no host, no <c>//</c> or <c>/\</c> (which browsers read as another host), nothing else in the query.
    /// </summary>
    private AuthorizeTicket? OpenReturnUrl(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl[0] != '/' || returnUrl.Length > 40_000
            || returnUrl.StartsWith("//", StringComparison.Ordinal) || returnUrl.Contains('\\', StringComparison.Ordinal)
            || returnUrl.Contains('#', StringComparison.Ordinal) || returnUrl.AsSpan().IndexOfAnyInRange('\0', ' ') >= 0)
        {
            return null;
        }

        var query = returnUrl.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return null;
        }

        var path = returnUrl[..query];
        var callback = _options.Endpoints.AuthorizeCallback;
        if (!path.EndsWith(callback, StringComparison.OrdinalIgnoreCase) || path.Contains("//", StringComparison.Ordinal)
            || path.Contains("/./", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = returnUrl[(query + 1)..];
        return rest.StartsWith(TicketParameter, StringComparison.Ordinal) && !rest.Contains('&', StringComparison.Ordinal)
            ? tickets.OpenAuthorize(Uri.UnescapeDataString(rest[TicketParameter.Length..]))
            : null;
    }

    private string WithTicket(string returnUrl, AuthorizeTicket ticket)
        => returnUrl[..returnUrl.IndexOf('?', StringComparison.Ordinal)] + "?" + TicketParameter + tickets.Protect(ticket);

    private static List<ConsentScope> DescribeScopes(string? scope, Client client, ResourceIndex index)
    {
        var list = new List<ConsentScope>();
        var names = new List<string>();
        if (scope is null)
        {
            // RFC 6749 §3.3: no scope means the client's default, every API scope it may have.
            names.AddRange(client.AllowedScopes.Where(index.ApiScopes.ContainsKey));
        }
        else if (!ScopeParser.TryParse(scope, names))
        {
            return list;
        }

        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            var identity = index.Source.IdentityResources.FirstOrDefault(r => r.Enabled && r.Name == name);
            if (identity is not null)
            {
                list.Add(new ConsentScope(name, identity.DisplayName ?? DefaultDisplayName(name), identity.Description,
                    identity.Required || name == StandardScopes.OpenId, identity.Emphasize, IsIdentityScope: true));
            }
            else if (index.ApiScopes.TryGetValue(name, out var api))
            {
                list.Add(new ConsentScope(name, api.DisplayName ?? name, api.Description, api.Required, api.Emphasize, IsIdentityScope: false));
            }
            else if (name == StandardScopes.OfflineAccess && client.AllowOfflineAccess)
            {
                list.Add(new ConsentScope(name, "Offline access", "Access while you are not signed in.", Required: false, Emphasize: true, IsIdentityScope: false));
            }
        }

        return list;
    }

    private static string DefaultDisplayName(string name) => name switch
    {
        StandardScopes.OpenId => "Your user identifier",
        "profile" => "Your profile (name and similar)",
        "email" => "Your email address",
        "address" => "Your postal address",
        "phone" => "Your phone number",
        _ => name,
    };
}
