using System.Text.Json;
using Castellan.Endpoints.Token;
using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Stores;
using Castellan.Tokens;
using Castellan.Users;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Castellan.Security;

namespace Castellan.Endpoints.UserInfo;

/// <summary>
/// <c>/connect/userinfo</c> (OIDC Core §5.3): the user's claims for the identity scopes an access token carries. The
/// token comes as an RFC 6750 bearer token, in the Authorization header (§2.1) or, on POST, the form body (§2.2);
/// the query (§2.3) is not accepted. Only access tokens pass: an id_token (<c>typ</c> JWT, not <c>at+jwt</c>) is
/// refused like any invalid token.
/// </summary>
internal sealed partial class UserInfoEndpoint(
    AccessTokenValidator tokens,
    IClientStore clients,
    IProfileService profiles,
    ResourceIndexProvider resources,
    IssuerResolver issuerResolver,
    ProofOfPossessionVerifier possession,
    DPoPNonces nonces,
    IOptions<CastellanOptions> options,
    ILogger<UserInfoEndpoint> logger)
{
    private readonly FormRequestParser _parser = new(options.Value.InputLengthRestrictions);
    private readonly string _path = options.Value.Endpoints.UserInfo;
    private readonly bool _requireNonce = options.Value.DPoP.RequireNonce;
    private readonly string _algs = "algs=\"" + string.Join(' ', possession.SupportedAlgorithms) + "\"";

    public async Task ProcessAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        try
        {
            if (!MethodGuard.IsGetOrPost(context))
            {
                return;
            }

            var (token, dpop, error) = await ReadTokenAsync(context).ConfigureAwait(false);
            if (error is not null)
            {
                await ChallengeAsync(context, StatusCodes.Status400BadRequest, OAuthErrors.InvalidRequest, error).ConfigureAwait(false);
                return;
            }

            if (token is null)
            {
                // RFC 6750 §3.1 and RFC 9449 §7.1: no credentials, no error code; both schemes offered.
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = new StringValues(["Bearer", "DPoP " + _algs]);
                return;
            }

            var issuer = issuerResolver.GetIssuer(context);
            var validated = await tokens.ValidateAsync(token, issuer, cancellationToken).ConfigureAwait(false);
            using var payload = validated is null ? null : JsonDocument.Parse(validated.PayloadJson);
            var root = payload?.RootElement;
            var subject = root?.TryGetProperty(JwtClaimNames.Subject, out var sub) == true ? sub.GetString() : null;
            var scopes = root?.TryGetProperty(JwtClaimNames.Scope, out var scope) == true ? scope.GetString()?.Split(' ') ?? [] : [];
            if (validated is null || subject is null)
            {
                await ChallengeAsync(context, StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The access token is invalid or expired.", dpop: dpop).ConfigureAwait(false);
                return;
            }

            // RFC 9449 §7 and RFC 8705 §3: a bound token only with its proof, by the rule the APIs apply.
            var binding = TokenBinding.FromPayload(root!.Value);
            if (dpop && _requireNonce)
            {
                // RFC 9449 §9: the current nonce on every DPoP answer, so the client always holds the newest.
                context.Response.Headers[DPoPConstants.NonceHeaderName] = nonces.GetCurrentNonce();
            }

            if ((dpop || binding.IsBound)
                && await possession.VerifyAsync(context, token, dpop, binding, UserInfoUri(issuer), _requireNonce ? nonces : null).ConfigureAwait(false) is { IsValid: false } refused)
            {
                LogBindingRefused(logger, refused.LogReason);
                await ChallengeAsync(context, StatusCodes.Status401Unauthorized, refused.Error, refused.ErrorDescription, dpop: refused.DPoPScheme).ConfigureAwait(false);
                return;
            }

            if (!scopes.Contains(StandardScopes.OpenId))
            {
                // OIDC Core §5.3: the token must have been issued for an OpenID Connect request.
                await ChallengeAsync(context, StatusCodes.Status403Forbidden, OAuthErrors.InsufficientScope, "The access token lacks the openid scope.", "openid", dpop).ConfigureAwait(false);
                return;
            }

            var client = await clients.FindClientByIdAsync(validated.ClientId!, cancellationToken).ConfigureAwait(false);
            if (client is null || !await profiles.IsActiveAsync(subject, client, ProfileCallers.UserInfo, cancellationToken).ConfigureAwait(false))
            {
                await ChallengeAsync(context, StatusCodes.Status401Unauthorized, OAuthErrors.InvalidToken, "The access token is invalid or expired.", dpop: dpop).ConfigureAwait(false);
                return;
            }

            var index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);
            var types = UserClaims.IdentityClaimTypes(scopes, index);
            var claims = types.Count == 0
                ? []
                : UserClaims.ToTokenClaims(await profiles.GetProfileClaimsAsync(new ProfileRequest(subject, client, types, ProfileCallers.UserInfo), cancellationToken).ConfigureAwait(false), types);

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            context.Response.ContentType = "application/json; charset=utf-8";
            using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
            {
                writer.WriteStartObject();
                writer.WriteString(JwtClaimNames.Subject, subject);
                foreach (var claim in claims)
                {
                    claim.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            await context.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            LogFailed(logger, ex);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "30";
            context.Response.Headers.CacheControl = "no-store";
        }
    }

    /// <summary>The proof's <c>htu</c> is the userinfo URL under the request's issuer: what discovery tells clients.</summary>
    private Uri UserInfoUri(string issuer)
        => Uri.TryCreate(IssuerResolver.Url(issuer, _path), UriKind.Absolute, out var uri) ? uri : new Uri(issuer, UriKind.Absolute);

    /// <summary>RFC 6750 §2: exactly one way of sending the token; RFC 9449 §7.1: or in <c>Authorization: DPoP</c>.</summary>
    private async Task<(string? Token, bool DPoP, string? Error)> ReadTokenAsync(HttpContext context)
    {
        string? fromHeader = null;
        var dpop = false;
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            return (null, false, "More than one Authorization header.");
        }

        if (authorization.Count == 1)
        {
            if (!AuthorizationHeader.TryReadAccessToken(authorization[0], acceptDPoP: true, out fromHeader, out dpop))
            {
                return (null, false, "The Authorization header must carry a Bearer or DPoP token.");
            }
        }

        string? fromBody = null;
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            var form = await _parser.ParseAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (form.IsError)
            {
                return (null, false, form.Error!.Description);
            }

            var values = form.Value![OAuthParameters.AccessToken];
            fromBody = values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
        }

        if (fromHeader is not null && fromBody is not null)
        {
            // RFC 6750 §2: clients MUST NOT use more than one method in a request.
            return (null, false, "The access token was sent in more than one way.");
        }

        return (fromHeader ?? fromBody, dpop, null);
    }

    private Task ChallengeAsync(HttpContext context, int status, string error, string description, string? scope = null, bool dpop = false)
    {
        LogRejected(logger, error, description);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        // RFC 6750 §3 and RFC 9449 §7.1: error and description under the scheme the client used; the description is
        // ours, safe as a quoted-string. A DPoP challenge also names the proof algorithms.
        var challenge = $"{(dpop ? "DPoP" : "Bearer")} error=\"{error}\", error_description=\"{description}\"" + (scope is null ? "" : $", scope=\"{scope}\"");
        context.Response.Headers.WWWAuthenticate = dpop ? challenge + ", " + _algs : challenge;
        return ProtocolErrorWriter.WriteAsync(context.Response, status, new ProtocolError(error, description), context.RequestAborted);
    }

    [LoggerMessage(3400, LogLevel.Information, "UserInfo request refused with {Error}: {Description}", EventName = "UserInfoRejected")]
    private static partial void LogRejected(ILogger logger, string error, string description);

    [LoggerMessage(3402, LogLevel.Information, "UserInfo refused a sender-constrained token: {Reason}", EventName = "UserInfoBindingRefused")]
    private static partial void LogBindingRefused(ILogger logger, string reason);

    [LoggerMessage(3401, LogLevel.Error, "The userinfo request failed on the server side (answered 503).", EventName = "UserInfoFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
