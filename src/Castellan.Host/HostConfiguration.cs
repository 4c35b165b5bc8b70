using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Castellan.Host;

/// <summary>
/// Reads clients, scopes and resources from the <c>Castellan</c> configuration section, whose properties carry
/// the model's names. Client and API secrets may be plain text (hashed here) or <c>sha256:BASE64</c>.
/// </summary>
internal static class HostConfiguration
{
    public const string SectionName = "Castellan";
    public const string DefaultKeyPath = ".castellan/keys";

    public sealed record Loaded(List<Client> Clients, List<ApiScope> ApiScopes, List<ApiResource> ApiResources,
        List<IdentityResource> IdentityResources, bool IsDemo)
    {
        public List<TestUser> TestUsers { get; init; } = [];

        public Ui.Branding Branding { get; init; } = Ui.Branding.Default;
    }

    /// <summary>
    /// Checks and reads the <c>Castellan</c> section. Every problem (an unknown name, a value of the wrong type,
    /// an empty secret, a setting Production requires) is collected and reported together.
    /// </summary>
    /// <param name="configFile">The full path of the <c>--config</c> file, if one was given.</param>
    /// <exception cref="CastellanConfigurationException">Anything is wrong; each line names the setting.</exception>
    public static Loaded Load(IConfiguration configuration, IHostEnvironment environment, string? configFile)
    {
        var errors = new List<string>();
        if (configFile is not null)
        {
            CheckConfigFileHasSection(configFile, errors);
        }

        var section = configuration.GetSection(SectionName);
        errors.AddRange(ConfigurationSchema.Check(section, typeof(HostSettings)));
        if (errors.Count > 0)
        {
            // Binding would fail or drop settings: report what is wrong before anything else.
            throw new CastellanConfigurationException(errors);
        }

        var settings = section.Get<HostSettings>() ?? new HostSettings();
        CheckSecrets(settings, errors);
        var testUsers = TestUserConfiguration.Read(settings.TestUsers, errors);
        var branding = Ui.Branding.Read(settings.Branding, errors);

        var nothingConfigured = settings.Clients.Count == 0 && settings.ApiScopes.Count == 0 && settings.ApiResources.Count == 0
                                && settings.IdentityResources.Count == 0;
        var demo = nothingConfigured && (environment.IsDevelopment() || settings.Demo);

        // With a database, clients and resources may all live there (added with the admin commands).
        if (nothingConfigured && !demo && settings.Storage.Provider == HostStorageProvider.InMemory)
        {
            errors.Add($"{SectionName}: no clients, scopes or resources are configured. Configure them (docs/configuration.md), or, to try the server, " +
                       $"run in the Development environment or set {SectionName}:Demo=true to serve the demo client.");
        }

        if (settings.IssuerUri is null && !environment.IsDevelopment() && !settings.AllowInferredIssuer)
        {
            errors.Add($"{SectionName}:IssuerUri is required outside Development (e.g. \"https://login.example.com\"): without it the issuer is taken " +
                       $"from each request's Host header, which a caller can forge. Behind a proxy that sets Host itself, set {SectionName}:AllowInferredIssuer=true instead.");
        }

        if (errors.Count > 0)
        {
            throw new CastellanConfigurationException(errors);
        }

        if (demo)
        {
            // Test users of the operator's replace the demo user.
            var demoConfiguration = DemoConfiguration.Create();
            return demoConfiguration with
            {
                TestUsers = testUsers.Count > 0 ? testUsers : demoConfiguration.TestUsers,
                Branding = branding,
            };
        }

        foreach (var client in settings.Clients)
        {
            client.ClientSecrets = client.ClientSecrets.Select(Secret.FromConfigured).ToList();
        }

        foreach (var resource in settings.ApiResources)
        {
            resource.ApiSecrets = resource.ApiSecrets.Select(Secret.FromConfigured).ToList();
        }

        return new Loaded(settings.Clients, settings.ApiScopes, settings.ApiResources, settings.IdentityResources, IsDemo: false)
        {
            TestUsers = testUsers,
            Branding = branding,
        };
    }

    /// <summary>A <c>--config</c> file without a Castellan section (or with a misspelt one) configures nothing: an error, not the demo.</summary>
    private static void CheckConfigFileHasSection(string configFile, List<string> errors)
    {
        var file = new ConfigurationBuilder().AddJsonFile(configFile, optional: false, reloadOnChange: false).Build();
        if (file.GetSection(SectionName).Exists())
        {
            return;
        }

        var near = file.GetChildren().Select(c => c.Key).FirstOrDefault(k => ConfigurationSchema.Closest(k, [SectionName]) is not null);
        errors.Add(near is null
            ? $"{configFile}: has no '{SectionName}' section, so it configures nothing; put clients, scopes and resources under \"{SectionName}\"."
            : $"{configFile}: has no '{SectionName}' section; '{near}' is not one. Did you mean '{SectionName}'?");
    }

    private static void CheckSecrets(HostSettings settings, List<string> errors)
    {
        for (var i = 0; i < settings.Clients.Count; i++)
        {
            CheckSecrets(settings.Clients[i].ClientSecrets, $"{SectionName}:Clients:{i}:ClientSecrets", errors);
        }

        for (var i = 0; i < settings.ApiResources.Count; i++)
        {
            CheckSecrets(settings.ApiResources[i].ApiSecrets, $"{SectionName}:ApiResources:{i}:ApiSecrets", errors);
        }
    }

    private static void CheckSecrets(ICollection<Secret> secrets, string path, List<string> errors)
    {
        var j = 0;
        foreach (var secret in secrets)
        {
            var value = secret.Value ?? "";
            var plain = value.StartsWith(Secret.Sha256Prefix, StringComparison.Ordinal) ? value[Secret.Sha256Prefix.Length..] : value;
            if (string.IsNullOrWhiteSpace(plain))
            {
                // The secret itself is never part of a message.
                errors.Add($"{path}:{j}:Value: the secret is empty. An empty secret would authenticate a caller who sends none; generate one with `new-secret`.");
            }

            j++;
        }
    }

    /// <summary>Binds <see cref="CastellanOptions"/>, with the host's own default key folder.</summary>
    public static void BindOptions(IConfiguration configuration, CastellanOptions options)
    {
        // The host keeps its state in one folder under the content root unless told otherwise.
        options.KeyManagement.KeyPath = DefaultKeyPath;
        var section = configuration.GetSection(SectionName);
        section.Bind(options);
    }
}

/// <summary>
/// What the host serves when nothing is configured: enough to try client credentials at once, and a user with an
/// interactive client for the authorization code flow.
/// </summary>
internal static class DemoConfiguration
{
    public const string ClientId = "demo-client";
    public const string ClientSecret = "demo-secret";

    public const string InteractiveClientId = "demo-web";
    public const string InteractiveClientSecret = "demo-web-secret";

    public const string Username = "alice";
    public const string Password = "alice";

    public static HostConfiguration.Loaded Create() => new(
        [
            new Client
            {
                ClientId = ClientId,
                ClientName = "Demo machine-to-machine client",
                ClientSecrets = { Secret.FromPlainText(ClientSecret) },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
            },
            InteractiveClient(),
        ],
        [new ApiScope("api1", "Demo API")],
        [new ApiResource("api1", "Demo API") { Scopes = { "api1" } }],
        [IdentityResource.OpenId(), IdentityResource.Profile(), IdentityResource.Email()],
        IsDemo: true)
    {
        TestUsers =
        [
            new TestUser
            {
                SubjectId = "1",
                Username = Username,
                Password = Password,
                Claims =
                [
                    new System.Security.Claims.Claim("name", "Alice Smith"),
                    new System.Security.Claims.Claim("email", "alice@example.com"),
                    new System.Security.Claims.Claim("email_verified", "true", System.Security.Claims.ClaimValueTypes.Boolean),
                ],
            },
        ],
    };

    /// <summary>
    /// A web app at http://localhost:5002 (the ASP.NET Core OpenID Connect handler's default callback paths).
    /// AllowOfflineAccess is what allows refresh tokens (scope <c>offline_access</c>), as in Duende; the scope need not be
    /// listed in AllowedScopes.
    /// </summary>
    private static Client InteractiveClient() => new()
    {
        ClientId = InteractiveClientId,
        ClientName = "Demo web app",
        ClientSecrets = { Secret.FromPlainText(InteractiveClientSecret) },
        AllowedGrantTypes = { GrantTypes.AuthorizationCode, GrantTypes.RefreshToken },
        RedirectUris = { "http://localhost:5002/signin-oidc" },
        PostLogoutRedirectUris = { "http://localhost:5002/signout-callback-oidc" },
        AllowedScopes = { "openid", "profile", "email", "api1" },
        AllowOfflineAccess = true,
        RequireConsent = true,
        // samples/WebApp's logout endpoints, so the demo shows front- and back-channel logout too.
        FrontChannelLogoutUri = "http://localhost:5002/frontchannel-logout",
        BackChannelLogoutUri = "http://localhost:5002/backchannel-logout",
    };
}
