using System.Collections.Frozen;

namespace Castellan.Stores;

/// <summary>Clients configured in code or in a configuration file; looked up in a frozen dictionary.</summary>
internal sealed class InMemoryClientStore(InMemoryConfiguration configuration) : IClientStore
{
    private readonly FrozenDictionary<string, Client> _clients =
        configuration.Clients.GroupBy(c => c.ClientId, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public ValueTask<Client?> FindClientByIdAsync(string clientId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_clients.GetValueOrDefault(clientId));
}

internal sealed class InMemoryResourceStore(InMemoryConfiguration configuration) : IResourceStore
{
    private readonly Resources _resources = new(configuration.ApiScopes, configuration.ApiResources, configuration.IdentityResources);

    public ValueTask<Resources> GetAllResourcesAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_resources);
}

/// <summary>Everything added with the <c>AddInMemory*</c> calls; validated at startup.</summary>
internal sealed class InMemoryConfiguration
{
    public List<Client> Clients { get; } = [];

    public List<ApiScope> ApiScopes { get; } = [];

    public List<ApiResource> ApiResources { get; } = [];

    public List<IdentityResource> IdentityResources { get; } = [];

    /// <summary>What the servers validate and serve with a configuration store: this (code, the file) and the store's read together.</summary>
    public InMemoryConfiguration With(ConfigurationSnapshot stored)
    {
        var merged = new InMemoryConfiguration();
        merged.Clients.AddRange([.. Clients, .. stored.Clients]);
        merged.ApiScopes.AddRange([.. ApiScopes, .. stored.ApiScopes]);
        merged.ApiResources.AddRange([.. ApiResources, .. stored.ApiResources]);
        merged.IdentityResources.AddRange([.. IdentityResources, .. stored.IdentityResources]);
        return merged;
    }
}
