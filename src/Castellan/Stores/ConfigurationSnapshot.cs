using Microsoft.Extensions.Primitives;

namespace Castellan.Stores;

/// <summary>
/// A configuration kept outside the process (a database): read whole, cached, and read again only when its
/// <see cref="GetVersionAsync">version</see> changes. Register one with
/// <see cref="CastellanBuilderExtensions.AddConfigurationSource{TSource}"/>; clients, scopes and resources added in
/// code or in the configuration file stay, and the two are validated together.
/// </summary>
public interface IConfigurationSnapshotSource
{
    /// <summary>
    /// A cheap marker that changes whenever anything in the configuration changes (a counter every write bumps).
    /// Asked once per cache lifetime; the whole configuration is read only when it differs from the last one.
    /// </summary>
    Task<long> GetVersionAsync(CancellationToken cancellationToken);

    /// <summary>The whole configuration, as one consistent read.</summary>
    Task<ConfigurationSnapshot> LoadAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Implemented by an <see cref="IConfigurationSnapshotSource"/> that learns of its changes as they are made (a
/// database notification): the engine then checks the version at once, rather than when
/// <see cref="CastellanOptions.ConfigurationCacheLifetime"/> has passed. The periodic check stays, for the
/// notifications a source misses (a dropped connection).
/// </summary>
public interface IConfigurationChangeNotifier
{
    /// <summary>
    /// A token that fires when the configuration may have changed; a new one is asked for after each fires. A
    /// notification that changed nothing costs one <see cref="IConfigurationSnapshotSource.GetVersionAsync">version check</see>.
    /// </summary>
    IChangeToken GetChangeToken();
}

/// <summary>One consistent read of an <see cref="IConfigurationSnapshotSource"/>.</summary>
public sealed record ConfigurationSnapshot
{
    /// <summary>The <see cref="IConfigurationSnapshotSource.GetVersionAsync">version</see> this read corresponds to.</summary>
    public required long Version { get; init; }

    public IReadOnlyList<Client> Clients { get; init; } = [];

    public IReadOnlyList<ApiScope> ApiScopes { get; init; } = [];

    public IReadOnlyList<ApiResource> ApiResources { get; init; } = [];

    public IReadOnlyList<IdentityResource> IdentityResources { get; init; } = [];
}
