using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebApp.Logout;
using WebApp.Tokens;

namespace WebApp;

/// <summary>
/// A server-rendered app that signs its users in at Castellan with the ASP.NET Core OpenID Connect handler
/// (code flow with PKCE), calls the quickstart API with the user's access token, refreshes it, and takes part in
/// front- and back-channel logout. Tests build it the same way <c>Program</c> does.
/// </summary>
public static class WebAppApp
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;

    /// <summary>
    /// Settings (configuration keys): <c>Authority</c> (default <c>http://localhost:5000</c>), <c>ClientId</c>
    /// (<c>demo-web</c>), <c>ClientSecret</c> (<c>demo-web-secret</c>), <c>ApiBaseUrl</c> (<c>http://localhost:5003</c>).
    /// </summary>
    /// <param name="configure">Runs before the app's own registrations, e.g. for a test's <see cref="TimeProvider"/>.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Razor Pages are found in the application's assembly. Named here, not taken from the entry assembly,
            // so the pages are also there when a test process hosts the app.
            ApplicationName = typeof(WebAppApp).Assembly.GetName().Name,
        });
        configure?.Invoke(builder);
        var settings = WebAppSettings.From(builder.Configuration);
        builder.Services.AddSingleton(settings);
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieScheme;
                options.DefaultChallengeScheme = OidcScheme;
            })
            .AddCookie(CookieScheme, options =>
            {
                options.Cookie.Name = ".WebApp.Session";
                // A session ended by back-channel logout is refused at its next request.
                options.Events.OnValidatePrincipal = LoggedOutSessions.RejectLoggedOutAsync;
            })
            .AddOpenIdConnect(OidcScheme, options => ConfigureOpenIdConnect(options, settings));

        builder.Services.AddAntiforgery(options => options.Cookie.Name = ".WebApp.Antiforgery");
        builder.Services.AddRazorPages();
        builder.Services.AddHttpClient(AccessTokenProvider.ApiClientName, client => client.BaseAddress = settings.ApiBaseUrl);
        builder.Services.AddSingleton<AccessTokenProvider>();
        builder.Services.AddSingleton<LoggedOutSessions>();
        builder.Services.AddSingleton<LogoutTokenValidator>();

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        app.MapGet("/signin", () => Results.Challenge(new() { RedirectUri = "/" }, [OidcScheme]));
        app.MapLogoutEndpoints();
        return app;
    }

    private static void ConfigureOpenIdConnect(OpenIdConnectOptions options, WebAppSettings settings)
    {
        options.Authority = settings.Authority.OriginalString;
        options.ClientId = settings.ClientId;
        options.ClientSecret = settings.ClientSecret;
        options.ResponseType = "code";
        options.UsePkce = true;
        // The handler's default response mode, form_post: the code arrives in a POST body, not in the URL (and so
        // not in the browser history or a Referer header).
        options.Scope.Clear();
        foreach (var scope in new[] { "openid", "profile", "email", "api1", "offline_access" })
        {
            options.Scope.Add(scope);
        }

        options.SaveTokens = true;
        options.GetClaimsFromUserInfoEndpoint = true;
        // Keep the claim names of the tokens (sub, name, sid) instead of the WS-Federation URIs.
        options.MapInboundClaims = false;
        options.TokenValidationParameters.NameClaimType = "name";
        options.TokenValidationParameters.RoleClaimType = "role";

        if (settings.IsPlainHttpLoopback)
        {
            // Development only: Castellan on http://localhost. Metadata over plain HTTP is refused anywhere else.
            options.RequireHttpsMetadata = false;
            // The handler's correlation and nonce cookies are SameSite=None, which browsers accept only with
            // Secure, which needs https. On loopback both apps are one site (localhost), so Lax cookies come back
            // with the form_post from Castellan.
            options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.CorrelationCookie.SameSite = SameSiteMode.Lax;
            options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.NonceCookie.SameSite = SameSiteMode.Lax;
        }
    }
}

/// <summary>What the web app reads from configuration.</summary>
public sealed record WebAppSettings(Uri Authority, string ClientId, string ClientSecret, Uri ApiBaseUrl)
{
    /// <summary><see cref="Authority"/>'s origin (<c>scheme://host:port</c>): the only page that may frame the front-channel logout endpoint.</summary>
    public string AuthorityOrigin => Authority.GetLeftPart(UriPartial.Authority);

    public bool IsPlainHttpLoopback => Authority.Scheme == Uri.UriSchemeHttp && Authority.IsLoopback;

    public static WebAppSettings From(IConfiguration configuration) => new(
        new Uri(configuration["Authority"] ?? "http://localhost:5000"),
        configuration["ClientId"] ?? "demo-web",
        configuration["ClientSecret"] ?? "demo-web-secret",
        new Uri(configuration["ApiBaseUrl"] ?? "http://localhost:5003"));
}
