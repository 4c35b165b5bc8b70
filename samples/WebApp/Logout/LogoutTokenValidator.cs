using System.Text.Json;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace WebApp.Logout;

/// <summary>
/// Validates a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6) with the keys and issuer
/// the OpenID Connect handler discovered: the same keys sign the id_tokens.
/// </summary>
public sealed class LogoutTokenValidator(IOptionsMonitor<OpenIdConnectOptions> oidcOptions, TimeProvider time)
{
    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    /// <summary>How old a logout token may be (by its <c>iat</c>) and still be accepted.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    /// <summary>Allowed difference between Castellan's clock and ours.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<LogoutTokenValidation> ValidateAsync(string? logoutToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(logoutToken) || logoutToken.Length > 16 * 1024)
        {
            return LogoutTokenValidation.Fail("logout_token is missing or too long");
        }

        var options = oidcOptions.Get(WebAppApp.OidcScheme);
        var configurationManager = options.ConfigurationManager
                                   ?? throw new InvalidOperationException("The OpenID Connect handler has no configuration manager.");
        var configuration = await configurationManager.GetConfigurationAsync(cancellationToken);
        var result = await Handler.ValidateTokenAsync(logoutToken, Parameters(configuration, options.ClientId));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // Castellan may have rotated its keys since the JWKS was read: read it again, once.
            configurationManager.RequestRefresh();
            configuration = await configurationManager.GetConfigurationAsync(cancellationToken);
            result = await Handler.ValidateTokenAsync(logoutToken, Parameters(configuration, options.ClientId));
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken token)
        {
            return LogoutTokenValidation.Fail(result.Exception?.Message ?? "the token is not valid");
        }

        return CheckClaims(token, time.GetUtcNow());
    }

    private static TokenValidationParameters Parameters(Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration, string? clientId) => new()
    {
        ValidIssuer = configuration.Issuer,
        ValidAudience = clientId,
        IssuerSigningKeys = configuration.SigningKeys,
        RequireSignedTokens = true,
        // §2.4: the typ header is logout+jwt, so an id_token or access token cannot be replayed here (§4.1).
        ValidTypes = ["logout+jwt"],
        // exp is checked when present; iat, which §2.4 requires, bounds the token's age below.
        RequireExpirationTime = false,
        ClockSkew = ClockSkew,
    };

    /// <summary>§2.6 steps 4 to 7: the claims a logout token must and must not have.</summary>
    private static LogoutTokenValidation CheckClaims(JsonWebToken token, DateTimeOffset now)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(token.EncodedPayload));
        var claims = payload.RootElement;

        if (!claims.TryGetProperty("iat", out var iat) || !iat.TryGetInt64(out var issuedAtSeconds))
        {
            return LogoutTokenValidation.Fail("iat is missing");
        }

        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(issuedAtSeconds);
        if (issuedAt > now + ClockSkew || issuedAt < now - MaxAge - ClockSkew)
        {
            return LogoutTokenValidation.Fail("iat is not recent");
        }

        if (!claims.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object
            || !events.TryGetProperty(BackChannelLogoutEvent, out var logoutEvent) || logoutEvent.ValueKind != JsonValueKind.Object)
        {
            return LogoutTokenValidation.Fail("events does not hold the back-channel logout event");
        }

        // §2.4: a nonce is prohibited, so that a logout token can never pass as an id_token.
        if (claims.TryGetProperty("nonce", out _))
        {
            return LogoutTokenValidation.Fail("a logout token must not contain nonce");
        }

        var sid = StringClaim(claims, "sid");
        var sub = StringClaim(claims, "sub");
        if (sid is null && sub is null)
        {
            return LogoutTokenValidation.Fail("neither sid nor sub is present");
        }

        return LogoutTokenValidation.Success(new ValidatedLogoutToken(token.Issuer, sid, sub, StringClaim(claims, "jti")));
    }

    private static string? StringClaim(JsonElement claims, string name)
        => claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}

/// <summary>A logout token that passed validation.</summary>
public sealed record ValidatedLogoutToken(string Issuer, string? SessionId, string? Subject, string? TokenId);

/// <summary>Either a <see cref="ValidatedLogoutToken"/> or why the token was refused (for the logs, never for the caller).</summary>
public sealed record LogoutTokenValidation(ValidatedLogoutToken? Token, string? Error)
{
    public static LogoutTokenValidation Success(ValidatedLogoutToken token) => new(token, null);

    public static LogoutTokenValidation Fail(string error) => new(null, error);
}
