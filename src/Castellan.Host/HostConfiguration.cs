using Microsoft.Extensions.Configuration;

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
        List<IdentityResource> IdentityResources, bool IsDemo);

    public static Loaded Load(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        var clients = Bind<Client>(section, "Clients");
        var apiScopes = Bind<ApiScope>(section, "ApiScopes");
        var apiResources = Bind<ApiResource>(section, "ApiResources");
        var identityResources = Bind<IdentityResource>(section, "IdentityResources");

        if (clients.Count == 0 && apiScopes.Count == 0 && apiResources.Count == 0 && identityResources.Count == 0)
        {
            return DemoConfiguration.Create();
        }

        foreach (var secret in clients.SelectMany(c => c.ClientSecrets).Concat(apiResources.SelectMany(r => r.ApiSecrets)))
        {
            secret.Value = Secret.NormalizeConfiguredValue(secret.Value);
        }

        return new Loaded(clients, apiScopes, apiResources, identityResources, IsDemo: false);
    }

    private static List<T> Bind<T>(IConfigurationSection section, string name)
    {
        try
        {
            // Unknown property names are errors too: a typo must not silently drop a setting.
            var child = section.GetSection(name);
            var items = child.Get<List<T>>(o => o.ErrorOnUnknownConfiguration = true) ?? [];
            var configured = child.GetChildren().Count();
            if (items.Count != configured)
            {
                throw new CastellanConfigurationException([$"{SectionName}:{name}: {configured - items.Count} entr{(configured - items.Count == 1 ? "y" : "ies")} could not be read; check value types (numbers, true/false, enum names)."]);
            }

            return items;
        }
        catch (InvalidOperationException ex)
        {
            // e.g. "abc" for a number or an unknown enum value: name the place instead of showing a stack trace.
            var reason = ex.InnerException?.Message ?? ex.Message;
            throw new CastellanConfigurationException([$"{SectionName}:{name}: {reason}"]);
        }
    }

    /// <summary>Binds <see cref="CastellanOptions"/>, with the host's own default key folder.</summary>
    public static void BindOptions(IConfiguration configuration, CastellanOptions options)
    {
        // The host keeps its state in one folder beside the content root unless told otherwise.
        options.KeyManagement.KeyPath = DefaultKeyPath;
        var section = configuration.GetSection(SectionName);
        section.Bind(options);
    }
}

/// <summary>What the host serves when nothing is configured: enough to try client credentials at once.</summary>
internal static class DemoConfiguration
{
    public const string ClientId = "demo-client";
    public const string ClientSecret = "demo-secret";

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
        ],
        [new ApiScope("api1", "Demo API")],
        [new ApiResource("api1", "Demo API") { Scopes = { "api1" } }],
        [],
        IsDemo: true);
}
