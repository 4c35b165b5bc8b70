using System.Globalization;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace WebApp.Tokens;

/// <summary>
/// The signed-in user's access token, as saved in the cookie by the OpenID Connect handler (<c>SaveTokens</c>),
/// refreshed with the refresh token (RFC 6749 §6) when it expires within <see cref="RefreshBefore"/>. The new tokens
/// go back into the cookie.
/// </summary>
public sealed class AccessTokenProvider(IOptionsMonitor<OpenIdConnectOptions> oidcOptions, TimeProvider time)
{
    public const string ApiClientName = "api";

    public static readonly TimeSpan RefreshBefore = TimeSpan.FromSeconds(60);

    public async Task<AccessTokenResult> GetAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var session = await context.AuthenticateAsync(WebAppApp.CookieScheme);
        if (!session.Succeeded || session.Properties is not { } properties)
        {
            return AccessTokenResult.Fail("not signed in");
        }

        var accessToken = properties.GetTokenValue("access_token");
        var now = time.GetUtcNow();
        if (accessToken is not null && ExpiresAt(properties) is { } expiresAt && expiresAt - now > RefreshBefore)
        {
            return new AccessTokenResult(accessToken, Refreshed: false, Error: null);
        }

        if (properties.GetTokenValue("refresh_token") is not { } refreshToken)
        {
            return accessToken is null ? AccessTokenResult.Fail("no access token was saved") : new AccessTokenResult(accessToken, false, null);
        }

        var options = oidcOptions.Get(WebAppApp.OidcScheme);
        var configuration = await options.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
        var response = await options.Backchannel.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = configuration.TokenEndpoint,
            ClientId = options.ClientId!,
            ClientSecret = options.ClientSecret,
            RefreshToken = refreshToken,
        }, cancellationToken);
        if (response.IsError || response.AccessToken is null)
        {
            return AccessTokenResult.Fail($"refresh failed: {response.Error}");
        }

        properties.UpdateTokenValue("access_token", response.AccessToken);
        // Castellan rotates refresh tokens by default: the old one is spent, keep the new one.
        if (response.RefreshToken is { } newRefreshToken)
        {
            properties.UpdateTokenValue("refresh_token", newRefreshToken);
        }

        if (response.IdentityToken is { } idToken)
        {
            properties.UpdateTokenValue("id_token", idToken);
        }

        // The same format the OpenID Connect handler writes.
        properties.UpdateTokenValue("expires_at", now.AddSeconds(response.ExpiresIn).ToString("o", CultureInfo.InvariantCulture));
        await context.SignInAsync(WebAppApp.CookieScheme, session.Principal!, properties);
        return new AccessTokenResult(response.AccessToken, Refreshed: true, Error: null);
    }

    private static DateTimeOffset? ExpiresAt(AuthenticationProperties properties)
        => DateTimeOffset.TryParse(properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;
}

public sealed record AccessTokenResult(string? AccessToken, bool Refreshed, string? Error)
{
    public static AccessTokenResult Fail(string error) => new(null, false, error);
}
