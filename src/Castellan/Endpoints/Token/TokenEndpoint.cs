using Castellan.Clients;
using Castellan.Diagnostics;
using Castellan.Endpoints.Token.Grants;
using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Token;

/// <summary>
/// <c>/connect/token</c> (RFC 6749 §3.2). Orchestrates only: parse → authenticate client → validate →
/// generate → write. Every outcome is one log event and one metric.
/// </summary>
internal sealed class TokenEndpoint(
    ClientAuthenticator clientAuthenticator,
    TokenRequestValidator validator,
    TokenResponseGenerator generator,
    TokenDPoPValidator dpop,
    ResourceIndexProvider resources,
    IssuerResolver issuer,
    MutualTlsAliases aliases,
    IOptions<CastellanOptions> options,
    ILogger<TokenEndpoint> logger)
{
    private readonly FormRequestParser _parser = new(options.Value.InputLengthRestrictions, validator.RepeatableParameters);
    private readonly CertificateBinding _certificates = new(options.Value.MutualTls);

    public async Task ProcessAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        using var activity = CastellanTelemetry.ActivitySource.StartActivity("castellan.token");
        string? clientId = null;
        try
        {
            var form = await _parser.ParseAsync(context.Request, cancellationToken).ConfigureAwait(false);
            if (form.IsError)
            {
                await RejectAsync(context, form.Error!, null).ConfigureAwait(false);
                return;
            }

            var client = await clientAuthenticator.AuthenticateAsync(context.Request, form.Value!, cancellationToken).ConfigureAwait(false);
            if (client.IsError)
            {
                await RejectAsync(context, client.Error!, null).ConfigureAwait(false);
                return;
            }

            clientId = client.Value!.Client.ClientId;
            var issuerValue = issuer.GetIssuer(context);

            // RFC 9449 §5. Without a DPoP header this costs one header lookup, nothing more (a measured hot path).
            string? thumbprint = null;
            if (context.Request.Headers.TryGetValue(Security.DPoPConstants.HeaderName, out var proof))
            {
                var endpointBase = aliases.EndpointBaseFor(context, issuerValue);
                var key = await dpop.ValidateAsync(proof, context.Request.Method, endpointBase, cancellationToken,
                    dpop.RequiresNonce(client.Value.Client) ? context.Response : null).ConfigureAwait(false);
                if (key.IsError)
                {
                    await RejectAsync(context, key.Error!, clientId).ConfigureAwait(false);
                    return;
                }

                thumbprint = key.Value;
            }
            else if (client.Value.Client.RequireDPoP)
            {
                await RejectAsync(context, TokenDPoPValidator.MissingProof, clientId).ConfigureAwait(false);
                return;
            }

            var certificate = _certificates.ThumbprintToBind(client.Value);
            var index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);
            var requestContext = new TokenRequestContext(form.Value!, client.Value, issuerValue, index)
            {
                DPoPKeyThumbprint = thumbprint,
                CertificateThumbprint = certificate,
            };
            var validated = await validator.ValidateAsync(requestContext, cancellationToken).ConfigureAwait(false);
            if (validated.IsError)
            {
                await RejectAsync(context, validated.Error!, clientId).ConfigureAwait(false);
                return;
            }

            var request = thumbprint is null && certificate is null
                ? validated.Value!
                : validated.Value! with { DPoPKeyThumbprint = thumbprint, CertificateThumbprint = certificate };
            var response = await generator.GenerateAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsError)
            {
                await RejectAsync(context, response.Error!, clientId).ConfigureAwait(false);
                return;
            }

            CastellanTelemetry.TokensIssued.Add(1, new KeyValuePair<string, object?>("grant_type", request.GrantType));
            if (logger.IsEnabled(LogLevel.Debug))
            {
                Log.TokenIssued(logger, clientId, request.GrantType, response.Value!.Scope);
            }

            await TokenResult.WriteSuccessAsync(context.Response, response.Value!, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller went away; nothing to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // Infrastructure failure (store down, key store unreadable): a generic body, the details in the log.
            Log.Failed(logger, ex);
            await RejectAsync(context, ProtocolError.ForFailure(ex), clientId).ConfigureAwait(false);
        }
    }

    private Task RejectAsync(HttpContext context, ProtocolError error, string? clientId)
    {
        CastellanTelemetry.TokenRequestsFailed.Add(1, CastellanTelemetry.ErrorTag(error.Error));
        Log.Rejected(logger, error.Error, error.Description, clientId, error.LogDetail);
        return TokenResult.WriteErrorAsync(context.Response, error, context.RequestAborted);
    }
}
