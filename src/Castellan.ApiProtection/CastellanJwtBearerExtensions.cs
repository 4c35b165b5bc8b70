using Castellan.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.ApiProtection;

public static class CastellanJwtBearerExtensions
{
    /// <summary>The algorithms Castellan signs access tokens with. <c>none</c> and HMAC are never accepted.</summary>
    public static IReadOnlyList<string> AllowedAlgorithms { get; } =
        [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>
    /// Adds Microsoft's JwtBearer handler configured for Castellan JWT access tokens (RFC 9068):
    /// issuer and keys from <paramref name="authority"/>'s discovery document, the given audience, <c>typ</c>
    /// <c>at+jwt</c> only (an id_token is refused), an algorithm allow-list, 30 s clock skew, claims kept with
    /// their JWT names (<c>sub</c>, <c>scope</c>, <c>client_id</c>). Metadata must come over HTTPS unless the
    /// authority is a loopback address.
    /// </summary>
    public static AuthenticationBuilder AddCastellanJwtBearer(this AuthenticationBuilder builder, string authority, string audience,
        Action<JwtBearerOptions>? configure = null)
        => builder.AddCastellanJwtBearer(JwtBearerDefaults.AuthenticationScheme, authority, audience, configure);

    public static AuthenticationBuilder AddCastellanJwtBearer(this AuthenticationBuilder builder, string authenticationScheme, string authority,
        string audience, Action<JwtBearerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(authority);
        ArgumentException.ThrowIfNullOrEmpty(audience);
        builder.Services.AddCastellanScopeAuthorization();
        return builder.AddJwtBearer(authenticationScheme, options =>
        {
            ConfigureForCastellan(options, authority, audience);
            configure?.Invoke(options);
        });
    }

    /// <summary>Applies Castellan's safe settings to existing <see cref="JwtBearerOptions"/>.</summary>
    public static void ConfigureForCastellan(JwtBearerOptions options, string authority, string audience)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Authority = authority.TrimEnd('/');
        options.Audience = audience;
        options.RequireHttpsMetadata = !CastellanApiExtensions.IsLoopback(authority);
        options.MapInboundClaims = false;
        // A token whose kid is unknown triggers one metadata refresh, rate-limited by the configuration
        // manager's RefreshInterval (5 minutes by default), so key rotation needs no restart of the API.
        options.RefreshOnIssuerKeyNotFound = true;

        var parameters = options.TokenValidationParameters;
        parameters.ValidateIssuer = true;
        parameters.ValidateAudience = true;
        parameters.ValidateLifetime = true;
        parameters.ValidateIssuerSigningKey = true;
        parameters.RequireExpirationTime = true;
        parameters.RequireSignedTokens = true;
        parameters.ValidTypes = ["at+jwt"];
        parameters.ValidAlgorithms = AllowedAlgorithms;
        parameters.ClockSkew = TimeSpan.FromSeconds(30);
        parameters.NameClaimType = "sub";
        parameters.RoleClaimType = "role";

        // JwtBearer knows nothing of DPoP or certificate binding, so it would take a sender-constrained token as a
        // plain bearer token: the binding would be ignored. Such tokens are refused here; AddCastellanApi checks them.
        var validated = options.Events.OnTokenValidated;
        options.Events.OnTokenValidated = context =>
        {
            if (context.Principal?.HasClaim(claim => claim.Type == TokenBinding.ClaimType) == true)
            {
                context.Fail("The access token is sender-constrained (cnf); JwtBearer cannot check its proof of possession. Use AddCastellanApi.");
                return Task.CompletedTask;
            }

            return validated(context);
        };
    }
}
