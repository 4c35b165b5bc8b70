using System.Security.Claims;
using System.Text.Json;
using Castellan.Interaction;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// A token server for the interactive flow: identity resources, a test user, a confidential web client, a public
/// SPA client, and bare test pages at the default login/consent/logout/error paths that drive the engine's
/// interaction service the way the host's Razor pages do (the host's own pages are tested with them in Ui/).
/// </summary>
public static class InteractiveServer
{
    public const string WebClientId = "web";
    public const string WebSecret = "web-secret-0123456789";
    public const string SpaClientId = "spa";
    public const string ConsentClientId = "consent-web";
    public const string RedirectUri = "https://app.example/signin-oidc";
    public const string PostLogoutRedirectUri = "https://app.example/signout-callback-oidc";
    public const string Username = "alice";
    public const string Password = "alice-password";
    public const string SubjectId = "alice-1";

    public static Task<TestApp> StartAsync(TempDirectory root, Action<Client>? configureClients = null, Action<CastellanOptions>? options = null,
        TimeProvider? time = null, Action<ICastellanBuilder>? configure = null)
        => TokenServer.StartAsync(root, castellan =>
        {
            var clients = new[]
            {
                new Client
                {
                    ClientId = WebClientId,
                    ClientName = "Web App",
                    ClientSecrets = { Secret.FromPlainText(WebSecret) },
                    AllowedGrantTypes = { GrantTypes.AuthorizationCode },
                    RedirectUris = { RedirectUri, "http://127.0.0.1/callback" },
                    PostLogoutRedirectUris = { PostLogoutRedirectUri },
                    AllowedScopes = { "openid", "profile", "email", "address", "api1" },
                    AllowOfflineAccess = true,
                    FrontChannelLogoutUri = "https://app.example/frontchannel-logout",
                },
                new Client
                {
                    ClientId = SpaClientId,
                    RequireClientSecret = false,
                    AllowedGrantTypes = { GrantTypes.AuthorizationCode },
                    RedirectUris = { "https://spa.example/callback" },
                    AllowedScopes = { "openid", "profile", "api1" },
                    AllowOfflineAccess = true,
                },
                new Client
                {
                    ClientId = ConsentClientId,
                    ClientSecrets = { Secret.FromPlainText(WebSecret) },
                    AllowedGrantTypes = { GrantTypes.AuthorizationCode },
                    RedirectUris = { RedirectUri },
                    AllowedScopes = { "openid", "profile", "email", "api1" },
                    RequireConsent = true,
                    AllowOfflineAccess = true,
                },
            };
            foreach (var client in clients)
            {
                configureClients?.Invoke(client);
            }

            castellan.AddInMemoryClients(clients)
                .AddInMemoryIdentityResources([IdentityResource.OpenId(), IdentityResource.Profile(), IdentityResource.Email(), IdentityResource.Address()])
                .AddTestUsers([Alice(), new TestUser { SubjectId = "bob-2", Username = "bob", Password = "bob-password", Claims = { new Claim("name", "Bob") } }]);
            configure?.Invoke(castellan);
        }, options, time, map: TestPages.Map);

    public static TestUser Alice() => new()
    {
        SubjectId = SubjectId,
        Username = Username,
        Password = Password,
        Claims =
        {
            new Claim("name", "Alice Smith"),
            new Claim("given_name", "Alice"),
            new Claim("email", "alice@example.com"),
            new Claim("email_verified", "true", ClaimValueTypes.Boolean),
            new Claim("address", """{"street_address":"1 Main St","locality":"Utrecht","country":"NL"}""", "json"),
            new Claim("role", "admin"),
        },
    };
}

/// <summary>Bare pages at the default interaction paths, answering JSON so tests can read what the engine told them.</summary>
internal static class TestPages
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/account/login", async (HttpContext context, ICastellanInteraction interaction) =>
        {
            var authorization = await interaction.GetAuthorizationContextAsync(context.Request.Query["ReturnUrl"], context.RequestAborted);
            return Results.Json(new { page = "login", valid = authorization is not null, loginHint = authorization?.LoginHint, reauthenticate = authorization?.ReauthenticationRequired });
        });
        app.MapPost("/account/login", async (HttpContext context, ICastellanInteraction interaction, ICastellanSignInService signIn) =>
        {
            var form = await context.Request.ReadFormAsync();
            string returnUrl = form["ReturnUrl"].ToString();
            if (form["button"] == "cancel")
            {
                return Results.Redirect(interaction.DenyAuthorization(returnUrl));
            }

            var result = await signIn.PasswordSignInAsync(context, form["username"].ToString(), form["password"].ToString(), context.RequestAborted);
            if (!result.Succeeded)
            {
                return Results.Json(new { page = "login", error = result.Status.ToString() }, statusCode: result.Status == SignInStatus.Throttled ? 429 : 401);
            }

            return Results.Redirect(interaction.IsValidReturnUrl(returnUrl) ? returnUrl : "/");
        });
        app.MapGet("/consent", async (HttpContext context, ICastellanInteraction interaction) =>
        {
            var authorization = await interaction.GetAuthorizationContextAsync(context.Request.Query["ReturnUrl"], context.RequestAborted);
            return Results.Json(new { page = "consent", valid = authorization is not null, scopes = authorization?.Scopes.Select(s => s.Name).ToArray() });
        });
        app.MapPost("/consent", async (HttpContext context, ICastellanInteraction interaction) =>
        {
            var form = await context.Request.ReadFormAsync();
            var next = await interaction.GrantConsentAsync(context, form["ReturnUrl"].ToString(), new ConsentDecision
            {
                Allow = form["decision"] == "allow",
                ScopesGranted = form["scopes"].Select(s => s!).ToArray(),
                Remember = form["remember"] == "true",
            }, context.RequestAborted);
            return Results.Redirect(next);
        });
        app.MapGet("/account/logout", async (HttpContext context, ICastellanInteraction interaction) =>
        {
            var logout = await interaction.GetLogoutContextAsync(context, context.Request.Query["logoutId"], context.RequestAborted);
            if (!logout.ShowSignOutPrompt)
            {
                var done = await interaction.SignOutAsync(context, logout.LogoutId, context.RequestAborted);
                return Results.Json(new { page = "loggedout", done.PostLogoutRedirectUri, done.FrontChannelLogoutUrls, done.ClientName });
            }

            return Results.Json(new { page = "logout", prompt = true, logout.LogoutId, client = logout.Client?.ClientId });
        });
        app.MapPost("/account/logout", async (HttpContext context, ICastellanInteraction interaction) =>
        {
            var form = await context.Request.ReadFormAsync();
            var done = await interaction.SignOutAsync(context, form["logoutId"].ToString() is { Length: > 0 } id ? id : null, context.RequestAborted);
            return Results.Json(new { page = "loggedout", done.PostLogoutRedirectUri, done.FrontChannelLogoutUrls, done.ClientName });
        });
        app.MapGet("/error", (HttpContext context, ICastellanInteraction interaction) =>
        {
            var error = interaction.GetErrorContext(context.Request.Query["errorId"]);
            return Results.Json(new { page = "error", error = error?.Error, description = error?.Description }, statusCode: 400);
        });
    }
}
