using Castellan.Clients;
using Castellan.Diagnostics;
using Castellan.Endpoints.Token;
using Castellan.Protocol;
using Castellan.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Revocation;

/// <summary>
/// <c>/connect/revocation</c> (RFC 7009). Revokes reference access tokens, and refresh tokens with their whole grant. The client must authenticate and
/// may revoke only tokens issued to it (§2.1: otherwise the request is refused). Unknown or already revoked
/// tokens get 200 (§2.2), and so do JWT access tokens, which are self-contained and cannot be recalled; they
/// expire on their own.
/// </summary>
internal sealed partial class RevocationEndpoint(
    ClientAuthenticator clientAuthenticator,
    ReferenceTokenService referenceTokens,
    Grants.RefreshTokenService refreshTokens,
    IOptions<CastellanOptions> options,
    ILogger<RevocationEndpoint> logger)
{
    private static readonly ProtocolError MissingToken = ProtocolError.InvalidRequest("The token parameter is missing.");
    private static readonly ProtocolError NotYourToken = new(OAuthErrors.UnauthorizedClient, "The token was not issued to this client.");
    private readonly FormRequestParser _parser = new(options.Value.InputLengthRestrictions);

    public async Task ProcessAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        using var activity = CastellanTelemetry.ActivitySource.StartActivity("castellan.revocation");
        try
        {
            var form = await _parser.ParseAsync(context.Request, cancellationToken).ConfigureAwait(false);
            if (form.IsError)
            {
                await RejectAsync(context, form.Error!).ConfigureAwait(false);
                return;
            }

            var client = await clientAuthenticator.AuthenticateAsync(context.Request, form.Value!, cancellationToken).ConfigureAwait(false);
            if (client.IsError)
            {
                await RejectAsync(context, client.Error!).ConfigureAwait(false);
                return;
            }

            var token = form.Value!["token"];
            if (token.Count != 1 || string.IsNullOrEmpty(token[0]))
            {
                await RejectAsync(context, MissingToken).ConfigureAwait(false);
                return;
            }

            // token_type_hint is only a hint (§2.1): every kind this server can revoke is searched anyway.
            var clientId = client.Value!.Client.ClientId;
            var grant = await referenceTokens.FindAsync(token[0]!, cancellationToken).ConfigureAwait(false);
            if (grant is not null)
            {
                if (!string.Equals(grant.ClientId, clientId, StringComparison.Ordinal))
                {
                    await RejectAsync(context, NotYourToken with { LogDetail = $"token belongs to {grant.ClientId}" }).ConfigureAwait(false);
                    return;
                }

                await referenceTokens.RemoveAsync(token[0]!, cancellationToken).ConfigureAwait(false);
                LogRevoked(logger, clientId);
                CastellanTelemetry.TokensRevoked.Add(1);
            }
            else if (await refreshTokens.FindActiveAsync(token[0]!, cancellationToken).ConfigureAwait(false) is { } refresh)
            {
                if (!string.Equals(refresh.ClientId, clientId, StringComparison.Ordinal))
                {
                    await RejectAsync(context, NotYourToken with { LogDetail = $"refresh token belongs to {refresh.ClientId}" }).ConfigureAwait(false);
                    return;
                }

                // §2.1: the grant goes, and with it the tokens issued from it.
                await refreshTokens.RevokeFamilyAsync(refresh, cancellationToken).ConfigureAwait(false);
                LogRevoked(logger, clientId);
                CastellanTelemetry.TokensRevoked.Add(1);
            }

            TokenResult.SetNoStore(context.Response);
            context.Response.StatusCode = StatusCodes.Status200OK;
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

    private Task RejectAsync(HttpContext context, ProtocolError error)
    {
        LogRejected(logger, error.Error, error.Description, error.LogDetail);
        CastellanTelemetry.RevocationRequestsFailed.Add(1, CastellanTelemetry.ErrorTag(error.Error));
        return TokenResult.WriteErrorAsync(context.Response, error, context.RequestAborted);
    }

    [LoggerMessage(5000, LogLevel.Information, "Token revoked by client {ClientId}.", EventName = "TokenRevoked")]
    private static partial void LogRevoked(ILogger logger, string clientId);

    [LoggerMessage(5001, LogLevel.Information, "Revocation request rejected: {Error} ({Description}). {Detail}", EventName = "RevocationRejected")]
    private static partial void LogRejected(ILogger logger, string error, string? description, string? detail);

    [LoggerMessage(5002, LogLevel.Error, "Revocation failed with an unexpected error.", EventName = "RevocationFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
