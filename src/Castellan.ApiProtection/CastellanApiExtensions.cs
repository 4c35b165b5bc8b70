using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Castellan.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Castellan.ApiProtection;

public static class CastellanApiExtensions
{
    /// <summary>Default scheme name: plain <c>Bearer</c>, so <c>[Authorize]</c> works unchanged.</summary>
    public const string DefaultScheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>
    /// One scheme for both token kinds: a token shaped like a JWT (three dot-separated parts) is validated
    /// locally with Microsoft.IdentityModel (issuer and keys from discovery, audience, lifetime, <c>typ</c>
    /// <c>at+jwt</c>, algorithm allow-list; an unknown <c>kid</c> triggers a rate-limited key refresh); anything
    /// else is a reference token, resolved at the introspection endpoint and cached.
    /// </summary>
    public static AuthenticationBuilder AddCastellanApi(this AuthenticationBuilder builder, Action<CastellanApiOptions> configure)
        => builder.AddCastellanApi(DefaultScheme, configure);

    public static AuthenticationBuilder AddCastellanApi(this AuthenticationBuilder builder, string scheme, Action<CastellanApiOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var api = new CastellanApiOptions();
        configure(api);
        if (string.IsNullOrEmpty(api.Authority))
        {
            throw new InvalidOperationException("CastellanApiOptions.Authority is required: the token service's issuer URL.");
        }

        if (api.Audiences.Count == 0)
        {
            throw new InvalidOperationException("CastellanApiOptions.Audiences needs at least one API resource name.");
        }

        var requireHttps = api.RequireHttpsMetadata ?? !IsLoopback(api.Authority);
        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddHttpClient();
        builder.Services.AddCastellanScopeAuthorization();
        // Proofs are checked whenever a DPoP-bound token arrives, so the validator is there even with DPoP "off".
        builder.Services.AddCastellanDPoPProofValidator();
        if (api.DPoP.RequireNonce)
        {
            builder.Services.AddCastellanDPoPNonces();
        }

        builder.Services.AddKeyedSingleton(api, (_, _) => new CastellanApiState(api, requireHttps));
        return builder.AddScheme<CastellanApiSchemeOptions, CastellanApiHandler>(scheme, "Castellan access token", options => options.Api = api);
    }

    /// <summary>
    /// Registers the scope requirement handler and the 403 writer that adds
    /// <c>WWW-Authenticate: Bearer error="insufficient_scope", scope="..."</c> (RFC 6750 §3.1).
    /// </summary>
    public static IServiceCollection AddCastellanScopeAuthorization(this IServiceCollection services)
    {
        services.AddAuthorization();
        services.RemoveAll<IAuthorizationMiddlewareResultHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, InsufficientScopeResultHandler>();
        return services;
    }

    internal static bool IsLoopback(string authority)
        => Uri.TryCreate(authority, UriKind.Absolute, out var uri)
           && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));
}

internal static class BearerToken
{
    /// <summary>
    /// The token of an <c>Authorization: Bearer</c> header, or (when <paramref name="acceptDPoP"/>) of an
    /// <c>Authorization: DPoP</c> header (RFC 9449 §7.1), with which scheme it came; null for anything else. Auth
    /// schemes are case-insensitive (RFC 9110 §11.1).
    /// </summary>
    public static string? From(Microsoft.AspNetCore.Http.HttpRequest request, bool acceptDPoP, out bool dpop)
    {
        dpop = false;
        var header = request.Headers.Authorization;
        return header.Count == 1 && AuthorizationHeader.TryReadAccessToken(header[0], acceptDPoP, out var token, out dpop) ? token : null;
    }

    /// <summary>43 characters: 32 random bytes, base64url without padding.</summary>
    private const int ReferenceHandleLength = 43;

    private static readonly SearchValues<char> Base64UrlAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>A JWS compact serialization has exactly two dots; reference handles have none.</summary>
    public static bool IsJwtShaped(string token) => token.AsSpan().Count('.') == 2;

    /// <summary>
    /// Whether the value can be a Castellan reference token handle. The same rule as the engine's
    /// <c>Castellan.Tokens.ReferenceTokenService.IsHandleShaped</c>, duplicated because this package does not
    /// reference the engine: change both together.
    /// </summary>
    public static bool IsReferenceHandleShaped(string token)
        => token.Length == ReferenceHandleLength && !token.AsSpan().ContainsAnyExcept(Base64UrlAlphabet);
}
