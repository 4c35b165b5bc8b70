namespace Castellan;

/// <summary>
/// Automatic signing key management. A key's life: created and published in the JWKS (announced) →
/// after <see cref="PropagationTime"/> used for signing (active) → after <see cref="RotationInterval"/>
/// no longer signs but still published (retired) → after <see cref="RetentionDuration"/> deleted.
/// The successor is created <see cref="PropagationTime"/> before its predecessor retires, so relying
/// parties that refresh their key cache within that time never see a token signed by an unknown key.
/// </summary>
public sealed class KeyManagementOptions
{
    /// <summary>Whether keys are created and rotated automatically. Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Folder of the file-system key store. Relative paths are resolved against the content root. Default: <c>keys</c>.</summary>
    public string KeyPath { get; set; } = "keys";

    /// <summary>
    /// Algorithms to keep keys for: RS256, PS256, ES256. The first is the default for access tokens;
    /// others are used for API resources that ask for them. Empty (the default) means RS256 alone.
    /// </summary>
    /// <remarks>
    /// The default is an empty list rather than <c>["RS256"]</c> because the configuration binder appends to a
    /// pre-filled list: binding <c>["ES256"]</c> would otherwise give RS256 and ES256.
    /// </remarks>
    public IList<string> SigningAlgorithms { get; set; } = new List<string>();

    private static readonly string[] DefaultSigningAlgorithms = ["RS256"];

    /// <summary><see cref="SigningAlgorithms"/>, or RS256 when none are named.</summary>
    internal IReadOnlyList<string> EffectiveSigningAlgorithms
        => SigningAlgorithms.Count == 0 ? DefaultSigningAlgorithms : SigningAlgorithms.Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>How long a key signs. Default: 90 days.</summary>
    public TimeSpan RotationInterval { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long a new key is published before it signs. Default: 14 days.</summary>
    public TimeSpan PropagationTime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How long a retired key stays published, so tokens it signed still validate. Default: 14 days.</summary>
    public TimeSpan RetentionDuration { get; set; } = TimeSpan.FromDays(14);

    /// <summary>RSA modulus size in bits for RS256/PS256 keys. Default: 2048.</summary>
    public int RsaKeySize { get; set; } = 2048;

    /// <summary>How often the key store is read again, so keys written by other nodes are seen. Default: 1 hour.</summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Encrypt keys at rest with ASP.NET Core Data Protection. Default: true.</summary>
    public bool DataProtectKeys { get; set; } = true;
}
