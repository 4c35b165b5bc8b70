using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Castellan.ApiProtection;

public static class CastellanApiExtensions
{
    /// <summary>Default scheme name: plain <c>Bearer</c>, so <c>[Authorize]</c> works unchanged.</summary>
    public const string DefaultScheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>
    /// One scheme for both token kinds: a token shaped like a JWT (three dot-separated parts) is validated
    /// locally by Microsoft's JwtBearer (see <see cref="CastellanJwtBearerExtensions.ConfigureForCastellan"/>);
    /// anything else is a reference token, resolved at the introspection endpoint and cached.
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

        var jwtScheme = scheme + ".Jwt";
        var introspectionScheme = scheme + ".Introspection";
        var requireHttps = api.RequireHttpsMetadata ?? !IsLoopback(api.Authority);

        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddHttpClient();
        builder.Services.AddCastellanScopeAuthorization();

        builder.AddJwtBearer(jwtScheme, options =>
        {
            CastellanJwtBearerExtensions.ConfigureForCastellan(options, api.Authority, api.Audiences[0]);
            options.RequireHttpsMetadata = requireHttps;
            options.TokenValidationParameters.ValidAudiences = api.Audiences;
            options.TokenValidationParameters.ClockSkew = api.ClockSkew;
            options.Events = new JwtBearerEvents
            {
                OnTokenValidated = async context =>
                {
                    var hook = new CastellanTokenValidatedContext(context.HttpContext, context.Principal!, isReferenceToken: false);
                    await api.Events.TokenValidated(hook).ConfigureAwait(false);
                    if (hook.FailureMessage is not null)
                    {
                        context.Fail(hook.FailureMessage);
                    }
                },
            };
            api.ConfigureJwtBearer?.Invoke(options);
        });

        builder.AddScheme<CastellanIntrospectionOptions, CastellanIntrospectionHandler>(introspectionScheme, options => options.Api = api);
        builder.Services.AddKeyedSingleton(api, (sp, _) => new ConfigurationManager<OpenIdConnectConfiguration>(
            api.Authority.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(api.BackchannelHandler is null ? new HttpClient() : new HttpClient(api.BackchannelHandler, disposeHandler: false))
            {
                RequireHttps = requireHttps,
            }));

        return builder.AddPolicyScheme(scheme, "Castellan access token", options =>
        {
            // The token's shape decides the path, so one [Authorize] covers both kinds.
            options.ForwardDefaultSelector = context =>
                BearerToken.From(context.Request) is { } token && !BearerToken.IsJwtShaped(token) && api.ApiSecret is not null
                    ? introspectionScheme
                    : jwtScheme;
        });
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
    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? From(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value.AsSpan(7).Trim();
        return token.IsEmpty ? null : token.ToString();
    }

    /// <summary>A JWS compact serialization has exactly two dots; reference handles have none.</summary>
    public static bool IsJwtShaped(string token) => token.AsSpan().Count('.') == 2;
}
