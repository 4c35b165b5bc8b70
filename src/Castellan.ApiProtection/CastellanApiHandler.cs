using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Castellan.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.ApiProtection;

/// <summary>
/// The unified scheme. JWT-shaped tokens are validated locally with <see cref="JsonWebTokenHandler"/> against the
/// discovery document's keys, with parameters built once per document (no per-request cloning). Other tokens are
/// resolved at the token service's introspection endpoint (RFC 7662), authenticating as the API resource, and
/// active results are cached under the authority, the audience and a hash of the token (never the token) until the
/// earlier of the configured duration and the token's <c>exp</c>. Values that are neither are refused locally.
/// </summary>
internal sealed partial class CastellanApiHandler(
    IOptionsMonitor<CastellanApiSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IHttpClientFactory httpClients,
    IDistributedCache cache,
    IServiceProvider services)
    : AuthenticationHandler<CastellanApiSchemeOptions>(options, loggerFactory, encoder)
{
    private const int MaxTokenLength = 16 * 1024;
    private static readonly JsonWebTokenHandler JwtHandler = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var api = Options.Api;
        var token = BearerToken.From(Request, api.DPoP.Enabled, out var dpop);
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (token.Length > MaxTokenLength)
        {
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
        }

        if (BearerToken.IsJwtShaped(token))
        {
            return await AuthenticateJwtAsync(token, dpop, api).ConfigureAwait(false);
        }

        if (!BearerToken.IsReferenceHandleShaped(token))
        {
            // Neither a JWT nor a handle this token service could have issued: refused here, so garbage bearer
            // values cost no introspection round trip (and cannot be used to load the token service through us).
            LogMalformedToken(Logger);
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
        }

        if (api.ApiSecret is null)
        {
            // Without an API secret this API cannot introspect, so only JWTs can be valid.
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
        }

        ClaimsPrincipal? principal;
        try
        {
            principal = await IntrospectAsync(token, api, Context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or JsonException or IOException or TaskCanceledException)
        {
            // The token service is unreachable or answered nonsense: the token cannot be trusted.
            LogIntrospectionFailed(Logger, ex);
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.Unvalidated, AccessTokenFailure.UnvalidatedDPoP));
        }

        if (principal is null)
        {
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
        }

        // RFC 9449 §6.2 and RFC 8705 §3.2: introspection reports the binding in cnf, held to the rule a JWT's is.
        var binding = TokenBinding.From((ClaimsIdentity)principal.Identity!);
        return await FinishAsync(token, dpop, binding, principal, isReferenceToken: true, api).ConfigureAwait(false);
    }

    private async Task<AuthenticateResult> AuthenticateJwtAsync(string token, bool dpop, CastellanApiOptions api)
    {
        var state = services.GetRequiredKeyedService<CastellanApiState>(api);
        ValidationContext validation;
        try
        {
            validation = await state.GetAsync(Context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            // Discovery is unreachable and nothing is cached: no key can vouch for the token.
            LogMetadataUnavailable(Logger, ex);
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.Unvalidated, AccessTokenFailure.UnvalidatedDPoP));
        }

        var cache = validation.Cache;
        var key = cache is null ? default : ValidatedJwtCache.Hash(token);
        var now = TimeProvider.GetUtcNow();
        TokenBinding binding = default;
        var identity = cache?.TryGet(key, now, out binding);
        if (identity is null)
        {
            var result = await JwtHandler.ValidateTokenAsync(token, validation.Parameters).ConfigureAwait(false);
            if (!result.IsValid)
            {
                return Reject(result, dpop, state);
            }

            identity = result.ClaimsIdentity;
            binding = TokenBinding.From(identity);
            if (cache is not null && result.SecurityToken is JsonWebToken jwt)
            {
                cache.Add(key, identity, binding, Utc(jwt.ValidFrom), Utc(jwt.ValidTo), now);
            }
        }

        return await FinishAsync(token, dpop, binding, new ClaimsPrincipal(identity), isReferenceToken: false, api).ConfigureAwait(false);
    }

    /// <summary>The checks both token kinds share once the token itself is valid: its binding, then the app's hook.</summary>
    private async Task<AuthenticateResult> FinishAsync(string token, bool dpop, TokenBinding binding, ClaimsPrincipal principal,
        bool isReferenceToken, CastellanApiOptions api)
    {
        // Skipped entirely for a bearer token sent as Bearer: the common case pays one branch.
        if (dpop || binding.IsBound)
        {
            if (await ConfirmPossessionAsync(token, dpop, binding, api).ConfigureAwait(false) is { } refused)
            {
                return Fail(refused);
            }
        }

        var hook = new CastellanTokenValidatedContext(Context, principal, isReferenceToken);
        await api.Events.TokenValidated(hook).ConfigureAwait(false);
        if (hook.FailureMessage is not null)
        {
            return Fail(AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    /// <returns>Null when the caller proved possession (the <see cref="SenderConstraintFeature"/> is then set).</returns>
    private async ValueTask<AccessTokenFailure?> ConfirmPossessionAsync(string token, bool dpop, TokenBinding binding, CastellanApiOptions api)
    {
        // htu is this request's URL as the client addressed it (RFC 9449 §4.3 step 9). Behind a proxy, the app's
        // forwarded-headers middleware must restore the public scheme and host first (docs/api-protection.md).
        if (!Uri.TryCreate(UriHelper.BuildAbsolute(Request.Scheme, Request.Host, Request.PathBase, Request.Path), UriKind.Absolute, out var uri))
        {
            LogBindingRefused(Logger, "the request's URL is not an absolute URI");
            return new AccessTokenFailure(dpop, AccessTokenFailure.InvalidToken, "The access token cannot be checked against this request.");
        }

        var nonces = api.DPoP.RequireNonce ? services.GetRequiredService<DPoPNonces>() : null;
        var result = await services.GetRequiredService<ProofOfPossessionVerifier>()
            .VerifyAsync(Context, token, dpop, binding, uri, nonces).ConfigureAwait(false);
        if (!result.IsValid)
        {
            LogBindingRefused(Logger, result.LogReason);
            return new AccessTokenFailure(result.DPoPScheme, result.Error, result.ErrorDescription);
        }

        if (result.IsSenderConstrained)
        {
            Context.Features.Set(new SenderConstraintFeature(binding.JwkThumbprint, binding.CertificateThumbprint));
        }

        if (nonces is not null && dpop)
        {
            // RFC 9449 §8.2: a nonce may be renewed on any answer; the client uses the newest it saw.
            Response.Headers[DPoPConstants.NonceHeaderName] = nonces.GetCurrentNonce();
        }

        return null;
    }

    private static AuthenticateResult Fail(AccessTokenFailure failure) => AuthenticateResult.Fail(failure);

    /// <summary>IdentityModel's times are UTC, and <see cref="DateTime.MinValue"/> when the claim is absent.</summary>
    private static DateTimeOffset Utc(DateTime value)
        => value == DateTime.MinValue ? DateTimeOffset.MinValue : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private AuthenticateResult Reject(TokenValidationResult result, bool dpop, CastellanApiState state)
    {
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // Perhaps the token service rotated its key: fetch the key set again (at most every RefreshInterval).
            state.Configuration.RequestRefresh();
        }

        LogJwtRejected(Logger, result.Exception?.GetType().Name ?? "unknown");
        return Fail(result.Exception is SecurityTokenExpiredException
            ? AccessTokenFailure.Pick(dpop, AccessTokenFailure.Expired, AccessTokenFailure.ExpiredDPoP)
            : AccessTokenFailure.Pick(dpop, AccessTokenFailure.NotValid, AccessTokenFailure.NotValidDPoP));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = (int)HttpStatusCode.Unauthorized;
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        var failure = result.Failure is null ? null : result.Failure as AccessTokenFailure ?? AccessTokenFailure.NotValid;
        // RFC 6750 §3 and RFC 9449 §7.1: one challenge per scheme the API accepts, the error under the scheme the
        // client used. A client without a token learns both schemes and the proof algorithms.
        var dpop = Options.Api.DPoP.Enabled ? DPoPChallenge(failure is { DPoP: true } ? failure : null) : null;
        var bearer = failure is { DPoP: false }
            ? $"Bearer error=\"{failure.Error}\", error_description=\"{failure.Description}\""
            : "Bearer";
        Response.Headers.WWWAuthenticate = dpop is null
            ? new StringValues(bearer)
            : failure is { DPoP: true } ? new StringValues([dpop, bearer]) : new StringValues([bearer, dpop]);
        if (failure is { NeedsNonce: true })
        {
            Response.Headers[DPoPConstants.NonceHeaderName] = services.GetRequiredService<DPoPNonces>().GetCurrentNonce();
        }
    }

    private string DPoPChallenge(AccessTokenFailure? failure)
    {
        var algs = string.Join(' ', services.GetRequiredService<ProofOfPossessionVerifier>().SupportedAlgorithms);
        return failure is null
            ? $"DPoP algs=\"{algs}\""
            : $"DPoP error=\"{failure.Error}\", error_description=\"{failure.Description}\", algs=\"{algs}\"";
    }

    /// <returns>The principal of an active introspection answer, or null when the token is inactive.</returns>
    private async Task<ClaimsPrincipal?> IntrospectAsync(string token, CastellanApiOptions api, CancellationToken cancellationToken)
    {
        var state = services.GetRequiredKeyedService<CastellanApiState>(api);
        var configuration = await state.Configuration.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        var cacheKey = api.IntrospectionCacheDuration > TimeSpan.Zero ? state.IntrospectionCacheKey(token) : null;
        if (cacheKey is not null && await ReadCacheAsync(cacheKey, configuration.Issuer, api, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return cached;
        }

        var endpoint = configuration.IntrospectionEndpoint
            ?? throw new InvalidOperationException("The token service's discovery document has no introspection_endpoint.");

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into the Basic header.
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            Uri.EscapeDataString(api.Audiences[0]) + ":" + Uri.EscapeDataString(api.ApiSecret!))));
        request.Content = new FormUrlEncodedContent([new("token", token), new("token_type_hint", "access_token")]);
        using var http = api.BackchannelHandler is null ? httpClients.CreateClient("Castellan.Introspection") : new HttpClient(api.BackchannelHandler, false);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Introspection answered {(int)response.StatusCode}; check the API resource name and ApiSecret.");
        }

        var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(json);
        var principal = ToPrincipal(document.RootElement, configuration.Issuer, api);
        if (principal is not null && cacheKey is not null)
        {
            await WriteCacheAsync(cacheKey, json, document.RootElement, api, cancellationToken).ConfigureAwait(false);
        }

        return principal;
    }

    /// <summary>
    /// A cached answer, or null on a miss. The cache is an optimisation, never a dependency: a cache that fails
    /// (Redis down, a timeout) or holds something that is not an active answer for this registration is a miss,
    /// logged once, and the token is introspected as if nothing were cached.
    /// </summary>
    private async Task<ClaimsPrincipal?> ReadCacheAsync(string key, string? issuer, CastellanApiOptions api, CancellationToken cancellationToken)
    {
        string? cached;
        try
        {
            cached = await cache.GetStringAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Caught broadly on purpose: each IDistributedCache provider throws its own types (Redis, SQL Server...).
            LogCacheReadFailed(Logger, ex);
            return null;
        }

        if (cached is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(cached);
            // Checked like a fresh answer (active, iss, aud), so a corrupt or foreign entry is never trusted.
            if (ToPrincipal(document.RootElement, issuer, api) is { } principal)
            {
                return principal;
            }
        }
        catch (JsonException)
        {
        }

        LogCacheEntryInvalid(Logger);
        return null;
    }

    /// <summary>Caches an active answer until the earlier of the configured duration and the token's <c>exp</c>.</summary>
    private async Task WriteCacheAsync(string key, string json, JsonElement answer, CastellanApiOptions api, CancellationToken cancellationToken)
    {
        if (!answer.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var expSeconds))
        {
            return;
        }

        var duration = DateTimeOffset.FromUnixTimeSeconds(expSeconds) - TimeProvider.GetUtcNow();
        if (duration > api.IntrospectionCacheDuration)
        {
            duration = api.IntrospectionCacheDuration;
        }

        if (duration <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await cache.SetStringAsync(key, json, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = duration },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The answer is good; only the next request pays for another round trip.
            LogCacheWriteFailed(Logger, ex);
        }
    }

    /// <returns>The principal, or null unless <paramref name="answer"/> is an active RFC 7662 answer from this
    /// registration's token service for one of its audiences.</returns>
    private static ClaimsPrincipal? ToPrincipal(JsonElement answer, string? issuer, CastellanApiOptions api)
    {
        if (answer.ValueKind != JsonValueKind.Object
            || !answer.TryGetProperty("active", out var active) || active.ValueKind != JsonValueKind.True)
        {
            return null;
        }

        // RFC 7662 §2.2 makes iss optional; Castellan always sends it, so it is required here and held to the rule a
        // JWT's iss is held to (RFC 9068 §4): it must equal the discovery document's issuer. An answer about another
        // issuer's token, or from an endpoint that speaks for someone else, is no answer about ours.
        if (issuer is null || !answer.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String
            || !iss.ValueEquals(issuer))
        {
            return null;
        }

        var claims = new List<Claim>();
        foreach (var property in answer.EnumerateObject())
        {
            if (property.Name is "active" or "token_type")
            {
                continue;
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var item in property.Value.EnumerateArray())
                    {
                        AddClaim(claims, property.Name, item);
                    }

                    break;
                default:
                    AddClaim(claims, property.Name, property.Value);
                    break;
            }
        }

        var audienceMatches = false;
        foreach (var claim in claims)
        {
            if (claim.Type == "aud" && api.Audiences.Contains(claim.Value))
            {
                audienceMatches = true;
            }
        }

        // The token service already checked the audience for us; checking again keeps a misrouted answer out.
        return audienceMatches ? new ClaimsPrincipal(new ClaimsIdentity(claims, "Castellan.Introspection", "sub", "role")) : null;
    }

    private static void AddClaim(List<Claim> claims, string type, JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => value.GetRawText(),
        };
        var valueType = value.ValueKind switch
        {
            JsonValueKind.Number => ClaimValueTypes.Integer64,
            JsonValueKind.True or JsonValueKind.False => ClaimValueTypes.Boolean,
            JsonValueKind.String => ClaimValueTypes.String,
            _ => "JSON",
        };
        claims.Add(new Claim(type, text, valueType));
    }

    [LoggerMessage(6000, LogLevel.Warning, "Introspection failed; the request is refused.", EventName = "IntrospectionFailed")]
    private static partial void LogIntrospectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(6001, LogLevel.Information, "JWT access token rejected: {Reason}.", EventName = "JwtRejected")]
    private static partial void LogJwtRejected(ILogger logger, string reason);

    [LoggerMessage(6002, LogLevel.Warning, "The token service's discovery document is unavailable; JWTs cannot be validated.", EventName = "MetadataUnavailable")]
    private static partial void LogMetadataUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(6003, LogLevel.Warning, "The introspection cache could not be read; introspecting instead.", EventName = "IntrospectionCacheReadFailed")]
    private static partial void LogCacheReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(6004, LogLevel.Warning, "The introspection cache holds an entry that is not an active answer for this API; introspecting instead.", EventName = "IntrospectionCacheEntryInvalid")]
    private static partial void LogCacheEntryInvalid(ILogger logger);

    [LoggerMessage(6005, LogLevel.Warning, "The introspection answer could not be cached; the request goes on.", EventName = "IntrospectionCacheWriteFailed")]
    private static partial void LogCacheWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(6006, LogLevel.Information, "Bearer value refused: neither a JWT nor a reference token handle.", EventName = "MalformedToken")]
    private static partial void LogMalformedToken(ILogger logger);

    [LoggerMessage(6007, LogLevel.Information, "Sender-constrained token refused: {Reason}.", EventName = "TokenBindingRefused")]
    private static partial void LogBindingRefused(ILogger logger, string reason);
}
