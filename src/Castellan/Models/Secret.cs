using System.Security.Cryptography;
using System.Text;

namespace Castellan;

/// <summary>
/// A shared secret of a client or an API resource. Only a SHA-256 hash of the secret is kept:
/// shared secrets are expected to be long random strings, for which a fast hash is enough
/// (a slow password hash would only slow the token endpoint down without adding protection).
/// </summary>
public sealed class Secret
{
    /// <summary>The prefix that marks an already hashed secret in configuration files.</summary>
    public const string Sha256Prefix = "sha256:";

    /// <summary>Base64 of the SHA-256 hash of the UTF-8 secret.</summary>
    public string Value { get; set; } = "";

    /// <summary>Optional: after this instant the secret no longer authenticates.</summary>
    public DateTimeOffset? Expiration { get; set; }

    public string? Description { get; set; }

    public Secret()
    {
    }

    /// <param name="hashedValue">Base64 of the SHA-256 hash of the secret, e.g. from <see cref="Hash"/>.</param>
    public Secret(string hashedValue, DateTimeOffset? expiration = null)
    {
        Value = hashedValue;
        Expiration = expiration;
    }

    /// <summary>Creates a secret from its plain text; only the hash is kept.</summary>
    public static Secret FromPlainText(string plainText, DateTimeOffset? expiration = null)
        => new(Hash(plainText), expiration);

    /// <summary>Base64 of SHA-256 of the UTF-8 bytes: the stored form of a secret.</summary>
    public static string Hash(string plainText)
    {
        ArgumentNullException.ThrowIfNull(plainText);
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(plainText)));
    }

    /// <summary>
    /// Reads a secret as written in a configuration file: <c>sha256:BASE64</c> is taken as already hashed,
    /// anything else is plain text and hashed now.
    /// </summary>
    public static string NormalizeConfiguredValue(string configured)
        => configured.StartsWith(Sha256Prefix, StringComparison.Ordinal)
            ? configured[Sha256Prefix.Length..]
            : Hash(configured);
}
