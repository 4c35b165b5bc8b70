using System.Text.Json;
using Castellan.Diagnostics;
using Castellan.Endpoints.Token;
using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Introspection;

/// <summary>
/// <c>/connect/introspect</c> (RFC 7662). An API sees a token as active only when the token is for it (its
/// name is in <c>aud</c>); a client only its own tokens. A token whose client is disabled or no longer exists is
/// inactive (checked by <see cref="AccessTokenValidator"/>). Anything else is exactly <c>{"active":false}</c>, so
/// the answer never tells a caller why.
/// </summary>
internal sealed partial class IntrospectionEndpoint(
    IntrospectionCallerAuthenticator authenticator,
    AccessTokenValidator tokens,
    IntrospectionResponseWriter writer,
    Grants.RefreshTokenService refreshTokens,
    ResourceIndexProvider resources,
    IssuerResolver issuerResolver,
    IOptions<CastellanOptions> options,
    ILogger<IntrospectionEndpoint> logger)
{
    private static readonly ProtocolError MissingToken = ProtocolError.InvalidRequest("The token parameter is missing.");
    private readonly FormRequestParser _parser = new(options.Value.InputLengthRestrictions);

    public async Task ProcessAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        using var activity = CastellanTelemetry.ActivitySource.StartActivity("castellan.introspect");
        try
        {
            var form = await _parser.ParseAsync(context.Request, cancellationToken).ConfigureAwait(false);
            if (form.IsError)
            {
                await RejectAsync(context, form.Error!).ConfigureAwait(false);
                return;
            }

            var index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);
            var caller = await authenticator.AuthenticateAsync(context.Request, form.Value!, index, cancellationToken).ConfigureAwait(false);
            if (caller.IsError)
            {
                await RejectAsync(context, caller.Error!).ConfigureAwait(false);
                return;
            }

            var token = form.Value!["token"];
            if (token.Count != 1 || string.IsNullOrEmpty(token[0]))
            {
                await RejectAsync(context, MissingToken).ConfigureAwait(false);
                return;
            }

            // token_type_hint (RFC 7662 §2.1) is only a hint: the token's shape decides where it is looked up.
            var issuer = issuerResolver.GetIssuer(context);
            var validated = await tokens.ValidateAsync(token[0]!, issuer, cancellationToken).ConfigureAwait(false);
            if (validated is null && caller.Value!.Client is not null
                && await refreshTokens.FindActiveAsync(token[0]!, cancellationToken).ConfigureAwait(false) is { } refresh)
            {
                // A client may introspect its own refresh tokens (APIs never see them, so never an API resource).
                validated = new ValidatedAccessToken(Grants.RefreshTokenService.IntrospectionPayload(refresh, issuer), isReference: true, Protocol.OAuthParameters.RefreshToken);
            }

            var active = validated is not null && IsVisibleTo(validated, caller.Value!);
            LogIntrospected(logger, caller.Value!.Id, active);
            CastellanTelemetry.TokensIntrospected.Add(1, new KeyValuePair<string, object?>("active", active));
            await writer.WriteAsync(context, issuer, caller.Value!, active ? validated : null, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // Like the token endpoint: a generic server_error through the one rejection path (log, metric, body).
            LogFailed(logger, ex);
            await RejectAsync(context, ProtocolError.ForFailure(ex)).ConfigureAwait(false);
        }
    }

    private static bool IsVisibleTo(ValidatedAccessToken token, IntrospectionCaller caller)
        => caller.Resource is not null
            ? token.Audiences.Contains(caller.Resource.Name)
            : string.Equals(token.ClientId, caller.Client!.ClientId, StringComparison.Ordinal);

    private Task RejectAsync(HttpContext context, ProtocolError error)
    {
        LogRejected(logger, error.Error, error.Description, error.LogDetail);
        CastellanTelemetry.IntrospectionRequestsFailed.Add(1, CastellanTelemetry.ErrorTag(error.Error));
        return TokenResult.WriteErrorAsync(context.Response, error, context.RequestAborted);
    }

    [LoggerMessage(4000, LogLevel.Debug, "Introspection by {Caller}: active={Active}.", EventName = "TokenIntrospected")]
    private static partial void LogIntrospected(ILogger logger, string caller, bool active);

    [LoggerMessage(4001, LogLevel.Information, "Introspection request rejected: {Error} ({Description}). {Detail}", EventName = "IntrospectionRejected")]
    private static partial void LogRejected(ILogger logger, string error, string? description, string? detail);

    [LoggerMessage(4002, LogLevel.Error, "Introspection failed with an unexpected error.", EventName = "IntrospectionFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
