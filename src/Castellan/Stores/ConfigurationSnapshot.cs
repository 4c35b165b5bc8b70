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
