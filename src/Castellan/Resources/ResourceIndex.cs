using System.Collections.Frozen;
using Castellan.Stores;

namespace Castellan.Resources;

/// <summary>
/// Lookups over one <see cref="Stores.Resources"/> snapshot, built once per snapshot so the token endpoint
/// never scans lists.
/// </summary>
internal sealed class ResourceIndex
{
    public ResourceIndex(Stores.Resources resources)
    {
        Source = resources;
        ApiScopes = resources.ApiScopes.Where(s => s.Enabled)
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        IdentityScopes = resources.IdentityResources.Where(r => r.Enabled)
            .Select(r => r.Name).ToFrozenSet(StringComparer.Ordinal);
        ResourcesByScope = resources.ApiResources.Where(r => r.Enabled)
            .SelectMany(r => r.Scopes.Select(s => (Scope: s, Resource: r)))
            .GroupBy(p => p.Scope, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(p => p.Resource).Distinct().ToArray(), StringComparer.Ordinal);
        ScopesOnlyByIndicator = ResourcesByScope.Where(p => p.Value.All(r => r.RequireResourceIndicator))
            .Select(p => p.Key).ToFrozenSet(StringComparer.Ordinal);
        ApiResources = resources.ApiResources.Where(r => r.Enabled)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        IdentityClaimsByScope = resources.IdentityResources.Where(r => r.Enabled)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First().UserClaims.ToArray(), StringComparer.Ordinal);
        ApiClaimsByScope = ApiScopes.Where(p => p.Value.UserClaims.Count > 0)
            .ToFrozenDictionary(p => p.Key, p => p.Value.UserClaims.ToArray(), StringComparer.Ordinal);
        ApiClaimsByResource = ApiResources.Where(p => p.Value.UserClaims.Count > 0)
            .ToFrozenDictionary(p => p.Key, p => p.Value.UserClaims.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The user claim types each identity scope releases (OIDC Core §5.4).</summary>
    public FrozenDictionary<string, string[]> IdentityClaimsByScope { get; }

    /// <summary>User claim types access tokens carry for an API scope; only scopes that have any.</summary>
    public FrozenDictionary<string, string[]> ApiClaimsByScope { get; }

    /// <summary>User claim types access tokens carry for an API resource in their audience; only resources that have any.</summary>
    public FrozenDictionary<string, string[]> ApiClaimsByResource { get; }

    public Stores.Resources Source { get; }

    public FrozenDictionary<string, ApiScope> ApiScopes { get; }

    public FrozenSet<string> IdentityScopes { get; }

    public FrozenDictionary<string, ApiResource[]> ResourcesByScope { get; }

    /// <summary>
    /// API scopes whose every owning API resource has <see cref="ApiResource.RequireResourceIndicator"/>: they can be
    /// granted only when one of those resources is named with the RFC 8707 <c>resource</c> parameter.
    /// </summary>
    public FrozenSet<string> ScopesOnlyByIndicator { get; }

    public FrozenDictionary<string, ApiResource> ApiResources { get; }
}

/// <summary>Keeps the index of the latest snapshot; rebuilds only when the store hands out a new one.</summary>
internal sealed class ResourceIndexProvider(IResourceStore store)
{
    private volatile ResourceIndex? _current;

    public async ValueTask<ResourceIndex> GetAsync(CancellationToken cancellationToken)
    {
        var resources = await store.GetAllResourcesAsync(cancellationToken).ConfigureAwait(false);
        var current = _current;
        if (current is not null && ReferenceEquals(current.Source, resources))
        {
            return current;
        }

        current = new ResourceIndex(resources);
        _current = current;
        return current;
    }
}
