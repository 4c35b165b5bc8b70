using Castellan.Grants;
using Castellan.Interaction;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Sessions;
using Castellan.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Authorize;

internal enum InteractionKind
{
    /// <summary>Issue the code now.</summary>
    None,
    Login,
    Consent,
    Error,
}

/// <summary>What the authorize endpoint does next, and with which ticket when the user must act.</summary>
internal sealed record InteractionDecision(InteractionKind Kind, AuthorizeTicket? Ticket = null, ProtocolError? Error = null,
    UserSession? Session = null, GrantedResources? Resources = null);

/// <summary>
/// Decides whether the user must sign in (OIDC Core §3.1.2.3: no session, <c>prompt=login</c>, <c>max_age</c>, an
/// <c>id_token_hint</c> for someone else) or consent (§3.1.2.4), or whether a code can be issued; with
/// <c>prompt=none</c> any needed interaction is an error instead (§3.1.2.6).
/// </summary>
internal sealed class AuthorizeInteractionDecider(
    IProfileService profiles,
    ConsentStore consents,
    InteractionTickets tickets,
    TimeProvider time,
    IOptions<CastellanOptions> options)
{
    private static readonly ProtocolError LoginRequired = new(OAuthErrors.LoginRequired, "The user must sign in.");
    private static readonly ProtocolError ConsentRequired = new(OAuthErrors.ConsentRequired, "The user must consent.");
    private static readonly ProtocolError NothingGranted = new(OAuthErrors.AccessDenied, "The user granted none of the requested scopes.");

    private readonly CastellanOptions _options = options.Value;

    public async ValueTask<InteractionDecision> DecideAsync(HttpContext context, ValidatedAuthorizeRequest request, AuthorizeTicket? ticket,
        ResourceIndex index, string issuer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var session = await DefaultSignInService.CurrentSessionAsync(context).ConfigureAwait(false);
        if (session is not null && !await profiles.IsActiveAsync(session.SubjectId, request.Client, "AuthorizeEndpoint", cancellationToken).ConfigureAwait(false))
        {
            // A user disabled since they signed in has no session any more.
            session = null;
        }

        var promptNone = request.Prompt.Contains(PromptValues.None);

        // A login made after the interaction started satisfies whatever forced it; without this, prompt=login and
        // max_age=0 would send the user back to the login page for ever.
        var freshLogin = ticket is { Reauthenticate: true } && session is not null && session.AuthTime.ToUnixTimeSeconds() >= ticket.Created
                         && session.SessionId != ticket.PriorSessionId;
        var forced = !freshLogin
                     && (ticket is { Reauthenticate: true }
                         || request.Prompt.Contains(PromptValues.Login) || request.Prompt.Contains(PromptValues.SelectAccount)
                         || (request.MaxAge is { } maxAge && (session is null || session.AuthTime.AddSeconds(maxAge) < now))
                         || (session is not null && SsoExpired(session, request.Client, now))
                         || (session is not null && request.HintSubject is not null && request.HintSubject != session.SubjectId));
        if (session is null || forced)
        {
            if (promptNone)
            {
                return new InteractionDecision(InteractionKind.Error, Error: LoginRequired);
            }

            return new InteractionDecision(InteractionKind.Login, Ticket: new AuthorizeTicket
            {
                Parameters = request.Parameters.Values,
                Created = ticket?.Created is { } created && ticket.Reauthenticate ? created : tickets.Now,
                Reauthenticate = forced,
                PriorSessionId = ticket?.PriorSessionId ?? session?.SessionId,
            });
        }

        var granted = request.Resources;
        // A consent belongs to the user who gave it: a callback URL opened in another user's session asks again.
        if (ticket?.ConsentedScopes is { } consented && ticket.ConsentSubject == session.SubjectId)
        {
            var narrowed = Narrow(request, index, consented);
            if (narrowed is null)
            {
                return new InteractionDecision(InteractionKind.Error, Error: NothingGranted);
            }

            var revalidated = ScopeValidator.Validate(string.Join(' ', narrowed), request.ResourceIndicators, request.Model, index, issuer,
                int.MaxValue, allowIdentityScopes: true);
            if (revalidated.IsError)
            {
                return new InteractionDecision(InteractionKind.Error, Error: revalidated.Error);
            }

            granted = revalidated.Value!;
        }
        else if (request.Client.RequireConsent || request.Prompt.Contains(PromptValues.Consent))
        {
            var remembered = request.Prompt.Contains(PromptValues.Consent)
                ? null
                : await consents.GetAsync(session.SubjectId, request.Client.ClientId, cancellationToken).ConfigureAwait(false);
            if (remembered is null || !request.Resources.Scopes.All(remembered.Contains) || ticket?.ConsentedScopes is not null)
            {
                if (promptNone)
                {
                    return new InteractionDecision(InteractionKind.Error, Error: ConsentRequired);
                }

                return new InteractionDecision(InteractionKind.Consent, Ticket: new AuthorizeTicket
                {
                    Parameters = request.Parameters.Values,
                    Created = ticket?.Created ?? tickets.Now,
                    // A fresh login stays satisfied on the way back from the consent page.
                    Reauthenticate = ticket?.Reauthenticate ?? false,
                    PriorSessionId = ticket?.PriorSessionId,
                });
            }
        }

        return new InteractionDecision(InteractionKind.None, Session: session, Resources: granted);
    }

    /// <summary>The requested scopes the user kept, plus those they could not deselect; null when none is left.</summary>
    internal static List<string>? Narrow(ValidatedAuthorizeRequest request, ResourceIndex index, IReadOnlyCollection<string> consented)
    {
        var kept = new List<string>();
        foreach (var scope in request.Resources.Scopes)
        {
            if (consented.Contains(scope) || IsRequired(scope, index))
            {
                kept.Add(scope);
            }
        }

        return kept.Count == 0 ? null : kept;
    }

    internal static bool IsRequired(string scope, ResourceIndex index)
        => scope == StandardScopes.OpenId
           || index.Source.IdentityResources.Any(r => r.Name == scope && r.Required)
           || (index.ApiScopes.TryGetValue(scope, out var api) && api.Required);

    private bool SsoExpired(UserSession session, Client client, DateTimeOffset now)
    {
        if (client.UserSsoLifetime is { } clientLimit && session.AuthTime.AddSeconds(clientLimit) < now)
        {
            return true;
        }

        return _options.Session.UserSsoLifetime is { } limit && session.AuthTime + limit < now;
    }
}
