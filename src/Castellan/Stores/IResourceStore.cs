namespace Castellan.Stores;

/// <summary>
/// Where API scopes, API resources and identity resources come from. Return the same
/// <see cref="Resources"/> instance while nothing changed: the engine indexes it once per instance.
/// </summary>
public interface IResourceStore
{
    ValueTask<Resources> GetAllResourcesAsync(CancellationToken cancellationToken);
}

/// <summary>A consistent snapshot of the configured resources.</summary>
public sealed class Resources
{
    public Resources(IEnumerable<ApiScope> apiScopes, IEnumerable<ApiResource> apiResources, IEnumerable<IdentityResource> identityResources)
    {
        ApiScopes = apiScopes.ToArray();
        ApiResources = apiResources.ToArray();
        IdentityResources = identityResources.ToArray();
    }

    public IReadOnlyList<ApiScope> ApiScopes { get; }

    public IReadOnlyList<ApiResource> ApiResources { get; }

    public IReadOnlyList<IdentityResource> IdentityResources { get; }
}
