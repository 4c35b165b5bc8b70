using Castellan.Endpoints.Authorize;
using Castellan.Hosting;
using Castellan.Interaction;
using Castellan.Protocol;
using Castellan.Stores;
using Castellan.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.EndSession;

/// <summary>
/// <c>/connect/endsession</c> (OpenID Connect RP-Initiated Logout 1.0 §2-3): checks the request, then hands it to the
/// logout page with a protected logout id. The browser only ever goes back to a <c>post_logout_redirect_uri</c> the
/// client registered, and only when the client is known (from <c>id_token_hint</c> or <c>client_id</c>).
/// </summary>
internal sealed partial class EndSessionEndpoint(
    IdTokenHintValidator hints,
    IClientStore clients,
    InteractionTickets tickets,
    IssuerResolver issuerResolver,
    IOptions<CastellanOptions> options,
    ILogger<EndSessionEndpoint> logger)
{
    private readonly CastellanOptions _options = options.Value;
    private readonly FormRequestParser _parser = FormRequestParser.ForBrowserRequests(options.Value.InputLengthRestrictions);

    public async Task ProcessAsync(HttpContext context)
    {
        try
        {
            var form = await _parser.ParseQueryOrFormAsync(context).ConfigureAwait(false);
            if (form is null && context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
            {
                return;
            }

            if (form is not null && form.Any(p => p.Value.Count > 1))
            {
                // RFC 6749 §3.1 as at every endpoint: no parameter twice, in the query as in a POST body.
                form = null;
            }

            var (ticket, error) = form is null
                ? (null, "The logout request is malformed, too large, or repeats a parameter.")
                : await ValidateAsync(form, issuerResolver.GetIssuer(context), context.RequestAborted).ConfigureAwait(false);
            if (error is not null)
            {
                ShowError(context, error);
                return;
            }

            context.Response.Headers.CacheControl = "no-store";
            context.Response.Redirect(ticket is null
                ? InteractionPages.Url(context, _options.UserInteraction.LogoutUrl)
                : InteractionPages.Url(context, _options.UserInteraction.LogoutUrl, _options.UserInteraction.LogoutIdParameter, tickets.Protect(ticket)));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            LogFailed(logger, ex);
            context.Response.Clear();
            ShowError(context, "The server could not complete the request; try again shortly.", OAuthErrors.TemporarilyUnavailable);
        }
    }

    private async Task<(LogoutTicket? Ticket, string? Error)> ValidateAsync(Microsoft.AspNetCore.Http.IFormCollection form, string issuer, CancellationToken cancellationToken)
    {
        string? Get(string name) => form[name].Count == 1 && !string.IsNullOrEmpty(form[name][0]) ? form[name][0] : null;

        var limits = _options.InputLengthRestrictions;
        var hint = Get(OAuthParameters.IdTokenHint);
        var clientId = Get(OAuthParameters.ClientId);
        var redirect = Get(OAuthParameters.PostLogoutRedirectUri);
        var state = Get(OAuthParameters.State);
        if (hint is null && clientId is null && redirect is null && state is null)
        {
            // A bare visit: the logout page asks the user.
            return (null, null);
        }

        if (hint?.Length > limits.IdTokenHint || clientId?.Length > limits.ClientId || redirect?.Length > limits.RedirectUri || state?.Length > limits.State)
        {
            return (null, "A parameter of the logout request is too long.");
        }

        IdTokenHint? validated = null;
        if (hint is not null)
        {
            validated = await hints.ValidateAsync(hint, issuer, cancellationToken).ConfigureAwait(false);
            if (validated is null)
            {
                return (null, "The id_token_hint is not a valid id_token of this server.");
            }

            // RP-Initiated Logout 1.0 §2: a client_id sent with the hint must be one of the hint's audiences.
            if (clientId is not null && !validated.Audiences.Contains(clientId))
            {
                return (null, "The client_id does not match the id_token_hint.");
            }

            clientId ??= validated.Audiences.Count == 1 ? validated.Audiences[0] : null;
        }

        Client? client = clientId is null ? null : await clients.FindClientByIdAsync(clientId, cancellationToken).ConfigureAwait(false);
        if (clientId is not null && client is not { Enabled: true })
        {
            return (null, "The client is unknown or disabled.");
        }

        if (redirect is not null)
        {
            // §3: only a URI registered for the client, compared exactly; without a known client, never.
            if (client is null || !client.PostLogoutRedirectUris.Contains(redirect, StringComparer.Ordinal))
            {
                return (null, "The post_logout_redirect_uri is not registered for the client.");
            }
        }

        return (new LogoutTicket
        {
            ClientId = client?.ClientId,
            PostLogoutRedirectUri = redirect,
            State = redirect is null ? null : state,
            HintSubject = validated?.Subject,
            HintSessionId = validated?.SessionId,
            Created = tickets.Now,
        }, null);
    }

    private void ShowError(HttpContext context, string description, string error = OAuthErrors.InvalidRequest)
        => LogRejected(logger, description, InteractionPages.RedirectToError(context, tickets, _options.UserInteraction, error, description));

    [LoggerMessage(3300, LogLevel.Information, "Logout request refused on the error page: {Description} Request id {RequestId}.", EventName = "EndSessionRejected")]
    private static partial void LogRejected(ILogger logger, string description, string requestId);

    [LoggerMessage(3301, LogLevel.Error, "The logout request failed on the server side.", EventName = "EndSessionFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
