using Castellan.Diagnostics;
using Castellan.Grants;
using Castellan.Hosting;
using Castellan.Interaction;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Sessions;
using Castellan.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Authorize;

/// <summary>
/// <c>/connect/authorize</c> (RFC 6749 §3.1, OIDC Core §3.1.2) and its callback, where the login and consent pages
/// send the browser back. Orchestrates only: parse → validate → user and consent → code → response.
/// </summary>
internal sealed class AuthorizeEndpoint(
    AuthorizeRequestValidator validator,
    AuthorizeInteractionDecider decider,
    AuthorizationCodeIssuer codes,
    InteractionTickets tickets,
    ResourceIndexProvider resources,
    IssuerResolver issuerResolver,
    IOptions<CastellanOptions> options,
    ILogger<AuthorizeEndpoint> logger)
{
    private static readonly ProtocolError Malformed = ProtocolError.InvalidRequest("The authorization request is malformed or too large.");
    private static readonly ProtocolError ExpiredInteraction = ProtocolError.InvalidRequest("The sign-in took too long or its link is not valid; start again from the application.");

    private readonly CastellanOptions _options = options.Value;
    private readonly FormRequestParser _queryParser = FormRequestParser.ForBrowserRequests(options.Value.InputLengthRestrictions);

    public async Task ProcessAsync(HttpContext context)
    {
        using var activity = CastellanTelemetry.ActivitySource.StartActivity("castellan.authorize");
        await GuardAsync(context, async () =>
        {
            var parameters = await ParseAsync(context).ConfigureAwait(false);
            if (parameters is null)
            {
                if (!context.Response.HasStarted && context.Response.StatusCode != StatusCodes.Status405MethodNotAllowed)
                {
                    await ShowErrorPageAsync(context, Malformed).ConfigureAwait(false);
                }

                return;
            }

            await AuthorizeAsync(context, parameters, ticket: null).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>The login and consent pages return here with the ticket of the pending request.</summary>
    public async Task ProcessCallbackAsync(HttpContext context)
    {
        using var activity = CastellanTelemetry.ActivitySource.StartActivity("castellan.authorize.callback");
        await GuardAsync(context, async () =>
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                context.Response.Headers.Allow = "GET";
                return;
            }

            var query = context.Request.QueryString.HasValue ? _queryParser.ParseQuery(context.Request.QueryString.Value![1..]) : null;
            var ticket = query is not null && query["ticket"].Count == 1 ? tickets.OpenAuthorize(query["ticket"][0]) : null;
            if (ticket is null)
            {
                await ShowErrorPageAsync(context, ExpiredInteraction).ConfigureAwait(false);
                return;
            }

            await AuthorizeAsync(context, new AuthorizeParameters(ticket.Parameters), ticket).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private async Task AuthorizeAsync(HttpContext context, AuthorizeParameters parameters, AuthorizeTicket? ticket)
    {
        var cancellationToken = context.RequestAborted;
        var issuer = issuerResolver.GetIssuer(context);
        var index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);

        // The request is validated again on the way back: the client or its settings may have changed meanwhile.
        var (request, error) = await validator.ValidateAsync(parameters, issuer, index, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            await RejectAsync(context, error, issuer).ConfigureAwait(false);
            return;
        }

        if (ticket is { Denied: true })
        {
            await RejectAsync(context, new AuthorizeError(new ProtocolError(OAuthErrors.AccessDenied, "The user denied the request."), request!.Redirect), issuer).ConfigureAwait(false);
            return;
        }

        var decision = await decider.DecideAsync(context, request!, ticket, index, issuer, cancellationToken).ConfigureAwait(false);
        switch (decision.Kind)
        {
            case InteractionKind.Error:
                await RejectAsync(context, new AuthorizeError(decision.Error!, request!.Redirect), issuer).ConfigureAwait(false);
                return;
            case InteractionKind.Login:
            case InteractionKind.Consent:
                Log.InteractionRequired(logger, request!.Client.ClientId, decision.Kind.ToString());
                var page = decision.Kind == InteractionKind.Login ? _options.UserInteraction.LoginUrl : _options.UserInteraction.ConsentUrl;
                context.Response.Headers.CacheControl = "no-store";
                context.Response.Redirect(InteractionPages.Url(context, page, _options.UserInteraction.ReturnUrlParameter, CallbackUrl(context, decision.Ticket!)));
                return;
        }

        var code = await codes.IssueAsync(request!, decision.Session!, decision.Resources!, cancellationToken).ConfigureAwait(false);
        await DefaultSignInService.AddClientAsync(context, request!.Client.ClientId).ConfigureAwait(false);
        CastellanTelemetry.AuthorizationCodesIssued.Add(1);
        Log.CodeIssued(logger, request.Client.ClientId, decision.Session!.SubjectId);

        var response = new List<KeyValuePair<string, string>>(3) { new(OAuthParameters.Code, code) };
        if (request.Redirect.State is not null)
        {
            response.Add(new(OAuthParameters.State, request.Redirect.State));
        }

        response.Add(new(OAuthParameters.Issuer, issuer));
        await AuthorizeResult.WriteAsync(context, request.Redirect, response).ConfigureAwait(false);
    }

    private async Task<AuthorizeParameters?> ParseAsync(HttpContext context)
    {
        var form = await _queryParser.ParseQueryOrFormAsync(context).ConfigureAwait(false);
        if (form is null)
        {
            return null;
        }

        var values = new Dictionary<string, string[]>(form.Count, StringComparer.Ordinal);
        foreach (var (name, value) in form)
        {
            values[name] = value.ToArray()!;
        }

        return new AuthorizeParameters(values);
    }

    private async Task RejectAsync(HttpContext context, AuthorizeError error, string issuer)
    {
        CastellanTelemetry.AuthorizeRequestsFailed.Add(1, CastellanTelemetry.ErrorTag(error.Error.Error));
        if (error.Redirect is null)
        {
            await ShowErrorPageAsync(context, error.Error).ConfigureAwait(false);
            return;
        }

        Log.Rejected(logger, error.Error.Error, error.Error.Description, error.Error.LogDetail);
        await AuthorizeResult.WriteAsync(context, error.Redirect, AuthorizeResult.ErrorParameters(error.Error, error.Redirect, issuer)).ConfigureAwait(false);
    }

    /// <summary>
    /// Errors that must not go to the client (unknown client, unregistered redirect URI, a broken request): the user
    /// sees the error page.
    /// </summary>
    private Task ShowErrorPageAsync(HttpContext context, ProtocolError error)
    {
        var requestId = InteractionPages.RedirectToError(context, tickets, _options.UserInteraction, error.Error,
            error.Description ?? "The request could not be processed.");
        Log.ErrorPage(logger, error.Error, error.Description, requestId);
        return Task.CompletedTask;
    }

    private string CallbackUrl(HttpContext context, AuthorizeTicket ticket)
        => context.Request.PathBase + _options.Endpoints.AuthorizeCallback + "?ticket=" + tickets.Protect(ticket);

    private async Task GuardAsync(HttpContext context, Func<Task> run)
    {
        try
        {
            await run().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The browser went away.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // A store or the key ring failed: the user sees the error page; the client gets nothing it could misread.
            Log.Failed(logger, ex);
            context.Response.Clear();
            await ShowErrorPageAsync(context, new ProtocolError(OAuthErrors.TemporarilyUnavailable, "The server could not complete the request; try again shortly.")).ConfigureAwait(false);
        }
    }
}
