using System.Security.Claims;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Quickstart.Api;
using WebApp;
using WebApp.Logout;

namespace Castellan.BrowserTests.InteractiveFlow;

/// <summary>
/// The three servers of the interactive flow, started once for a test class, each on Kestrel on 127.0.0.1 and each
/// reached by the browser as <c>http://localhost:PORT</c>: the Castellan host (in-process, as <c>Program</c> builds
/// it), the quickstart API, and the web app sample registered at the host as client <see cref="ClientId"/>.
/// </summary>
/// <remarks>
/// The host and the web app share the host name localhost, so the browser sends each the other's cookies (cookies
/// do not isolate by port); their cookie names differ, which is all that matters here.
/// </remarks>
public sealed class InteractiveFlowServers : IAsyncLifetime
{
    public const string ClientId = "browser-web";
    public const string ClientSecret = "browser-web-secret";

    /// <summary>Signs in and remembers consent in the end-to-end test.</summary>
    public static readonly TestUser Alice = new()
    {
        SubjectId = "alice-1",
        Username = "alice",
        Password = "alice-password",
        Claims = { new Claim("name", "Alice Smith"), new Claim("email", "alice@example.com"), new Claim("email_verified", "true", ClaimValueTypes.Boolean) },
    };

    /// <summary>Signs in in the header test, so that it sees a consent page of its own (Alice's may be remembered).</summary>
    public static readonly TestUser Bob = new()
    {
        SubjectId = "bob-2",
        Username = "bob",
        Password = "bob-password",
        Claims = { new Claim("name", "Bob Jones"), new Claim("email", "bob@example.com") },
    };

    private readonly TempDirectory _root = new();
    private readonly List<TestApp> _apps = [];

    /// <summary>Castellan's origin and issuer, e.g. <c>http://localhost:41234</c>.</summary>
    public string Authority { get; private set; } = "";

    public string ApiBaseUrl { get; private set; } = "";

    public string WebAppBaseUrl { get; private set; } = "";

    public TestApp WebApp => _apps[^1];

    public LoggedOutSessions WebAppLogouts => WebApp.Services.GetRequiredService<LoggedOutSessions>();

    public async Task InitializeAsync()
    {
        // Each server must know another's address before it starts (redirect URIs, authority), so the ports are
        // chosen first.
        var hostPort = TestApp.FreePort();
        var apiPort = TestApp.FreePort();
        var webPort = TestApp.FreePort();
        Authority = $"http://localhost:{hostPort}";
        ApiBaseUrl = $"http://localhost:{apiPort}";
        WebAppBaseUrl = $"http://localhost:{webPort}";

        var hostRoot = Folder("host");
        await StartAsync(CastellanHostApp.Build(
            TestApp.HostArgs(hostRoot, hostPort, $"--Castellan:KeyManagement:KeyPath={Path.Combine(hostRoot, "keys")}"),
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(HostConfiguration());
                builder.Services.AddCastellan().AddTestUsers([Alice, Bob]);
            }));
        await StartAsync(ApiApp.Build(TestApp.Args(Folder("api"), apiPort, $"--Authority={Authority}")));
        await StartAsync(WebAppApp.Build(TestApp.Args(Folder("web"), webPort,
            $"--Authority={Authority}", $"--ClientId={ClientId}", $"--ClientSecret={ClientSecret}", $"--ApiBaseUrl={ApiBaseUrl}")));
    }

    /// <summary>Starts one server; one that fails to start is disposed, and so are those started before it.</summary>
    private async Task StartAsync(WebApplication app)
    {
        try
        {
            _apps.Add(await TestApp.StartAsync(app));
        }
        catch
        {
            await app.DisposeAsync();
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The client, scopes and resources, as an operator would write them in the host's configuration.</summary>
    private Dictionary<string, string?> HostConfiguration()
    {
        var settings = new Dictionary<string, string?>
        {
            // The issuer is fixed to the name the browser and the other servers use, whatever Host header arrives.
            ["Castellan:IssuerUri"] = Authority,
            ["Castellan:Clients:0:ClientId"] = ClientId,
            ["Castellan:Clients:0:ClientName"] = "Browser test web app",
            ["Castellan:Clients:0:ClientSecrets:0:Value"] = ClientSecret,
            ["Castellan:Clients:0:AllowedGrantTypes:0"] = "authorization_code",
            ["Castellan:Clients:0:AllowedGrantTypes:1"] = "refresh_token",
            ["Castellan:Clients:0:RedirectUris:0"] = $"{WebAppBaseUrl}/signin-oidc",
            ["Castellan:Clients:0:PostLogoutRedirectUris:0"] = $"{WebAppBaseUrl}/signout-callback-oidc",
            ["Castellan:Clients:0:FrontChannelLogoutUri"] = $"{WebAppBaseUrl}{LogoutEndpoints.FrontChannelPath}",
            ["Castellan:Clients:0:BackChannelLogoutUri"] = $"{WebAppBaseUrl}{LogoutEndpoints.BackChannelPath}",
            // As in Duende: AllowOfflineAccess, not AllowedScopes, lets the client ask for offline_access.
            ["Castellan:Clients:0:AllowOfflineAccess"] = "true",
            ["Castellan:Clients:0:RequireConsent"] = "true",
            // Below the web app's 60 s refresh margin: its first API call refreshes the token (the refresh grant).
            ["Castellan:Clients:0:AccessTokenLifetime"] = "30",
            ["Castellan:ApiScopes:0:Name"] = "api1",
            ["Castellan:ApiScopes:0:DisplayName"] = "Quickstart API",
            ["Castellan:ApiResources:0:Name"] = "api1",
            ["Castellan:ApiResources:0:Scopes:0"] = "api1",
        };

        string[] scopes = ["openid", "profile", "email", "api1"];
        for (var i = 0; i < scopes.Length; i++)
        {
            settings[$"Castellan:Clients:0:AllowedScopes:{i}"] = scopes[i];
        }

        IdentityResource[] identityResources = [IdentityResource.OpenId(), IdentityResource.Profile(), IdentityResource.Email()];
        for (var i = 0; i < identityResources.Length; i++)
        {
            settings[$"Castellan:IdentityResources:{i}:Name"] = identityResources[i].Name;
            settings[$"Castellan:IdentityResources:{i}:Required"] = identityResources[i].Required ? "true" : "false";
            var j = 0;
            foreach (var claim in identityResources[i].UserClaims)
            {
                settings[$"Castellan:IdentityResources:{i}:UserClaims:{j++}"] = claim;
            }
        }

        return settings;
    }

    private string Folder(string name)
    {
        // One content root per server, so Data Protection and antiforgery names and keys are each their own.
        var path = Path.Combine(_root.Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task DisposeAsync()
    {
        for (var i = _apps.Count - 1; i >= 0; i--)
        {
            await _apps[i].DisposeAsync();
        }

        _apps.Clear();
        _root.Dispose();
    }
}
