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

    /// <summary>
    /// What <see cref="Value"/> holds: <see cref="SecretTypes.SharedSecret"/> (the default), base64 of the SHA-256
    /// hash of the UTF-8 secret; <see cref="SecretTypes.HmacSecret"/>, the secret itself (for <c>client_secret_jwt</c>);
    /// <see cref="SecretTypes.JsonWebKey"/>, a public JWK as JSON;
    /// <see cref="SecretTypes.X509Name"/> and <see cref="SecretTypes.X509Thumbprint"/>, what identifies a client certificate.
    /// </summary>
    public string Type { get; set; } = SecretTypes.SharedSecret;

    /// <summary>For a shared secret, base64 of the SHA-256 hash of the UTF-8 secret; for a key, the key (see <see cref="Type"/>).</summary>
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

    /// <summary>
    /// Plain-text secrets shorter than this get a startup warning: the hash is fast, so a short secret can be
    /// guessed offline from a leaked configuration or online without a rate limit. Secrets from
    /// <c>new-secret</c> have 64 characters.
    /// </summary>
    public const int RecommendedMinimumLength = 16;

    /// <summary>The plain text's length when this secret was made from it, so startup can warn about short ones.</summary>
    internal int? PlainTextLength { get; private init; }

    /// <summary>Creates a secret from its plain text; only the hash is kept.</summary>
    /// <exception cref="ArgumentException">The secret is empty or white space: it would authenticate anyone who sends no secret.</exception>
    public static Secret FromPlainText(string plainText, DateTimeOffset? expiration = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(plainText);
        return new Secret(Hash(plainText), expiration) { PlainTextLength = plainText.Length };
    }

    /// <summary>
    /// A secret for <c>client_secret_jwt</c> (<see cref="SecretTypes.HmacSecret"/>): kept as given, because the server
    /// needs it to check the HMAC of the client's assertions. At least 32 bytes (64 for HS512); <c>new-secret</c>
    /// makes one of 64 characters.
    /// </summary>
    /// <exception cref="ArgumentException">The secret is empty or white space.</exception>
    public static Secret FromHmacSecret(string secret, DateTimeOffset? expiration = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secret);
        return new Secret { Type = SecretTypes.HmacSecret, Value = secret, Expiration = expiration };
    }

    /// <summary>The stored form of the empty secret, refused by configuration validation wherever it appears.</summary>
    internal static string EmptySecretHash { get; } = Hash("");

    /// <summary>Base64 of SHA-256 of the UTF-8 bytes: the stored form of a secret.</summary>
    public static string Hash(string plainText)
    {
        ArgumentNullException.ThrowIfNull(plainText);
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(plainText)));
    }

    /// <summary>
    /// A secret as bound from a configuration file: <see cref="Value"/> is <c>sha256:BASE64</c> (already hashed)
    /// or plain text (hashed now, and remembered as plain text for the short-secret warning).
    /// </summary>
    internal static Secret FromConfigured(Secret bound)
    {
        if (bound.Type != SecretTypes.SharedSecret)
        {
            // A key is public: it is stored as written.
            return bound;
        }

        var secret = bound.Value.StartsWith(Sha256Prefix, StringComparison.Ordinal)
            ? new Secret(bound.Value[Sha256Prefix.Length..], bound.Expiration)
            : FromPlainText(bound.Value, bound.Expiration);
        secret.Description = bound.Description;
        return secret;
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

/// <summary>The kinds of <see cref="Secret"/> (Duende IdentityServer's names).</summary>
public static class SecretTypes
{
    /// <summary>A shared secret, stored as its SHA-256 hash: <c>client_secret_basic</c> and <c>client_secret_post</c>.</summary>
    public const string SharedSecret = "SharedSecret";

    /// <summary>
    /// A shared secret for <c>client_secret_jwt</c> (RFC 7523 §2.2, OpenID Connect Core §9): the client keys the HMAC of
    /// its assertions with it, so the server must hold it as it is, not as a hash. In memory and in the host's
    /// configuration file it is plain text; the database store encrypts it with Data Protection. Not Duende's (it
    /// has no <c>client_secret_jwt</c>). Prefer <see cref="JsonWebKey"/> and <c>private_key_jwt</c> (RFC 9700 §2.5).
    /// </summary>
    public const string HmacSecret = "HmacSecret";

    /// <summary>A public JSON Web Key (RFC 7517) as JSON: the client's assertions for <c>private_key_jwt</c> are signed with its private half.</summary>
    public const string JsonWebKey = "JWK";

    /// <summary>
    /// The subject distinguished name of the client's certificate, e.g. <c>CN=billing.example.com, O=Example</c>:
    /// <c>tls_client_auth</c> (RFC 8705 §2.1) accepts a certificate with this subject from a trusted CA. Compared as
    /// names (attribute by attribute, case and insignificant spaces ignored), not as strings.
    /// </summary>
    public const string X509Name = "X509Name";

    /// <summary>
    /// The thumbprint of the client's (self-signed) certificate, in hex: SHA-1 (40 characters, what Windows and
    /// <c>X509Certificate2.Thumbprint</c> show) or SHA-256 (64): <c>self_signed_tls_client_auth</c> (RFC 8705 §2.2).
    /// </summary>
    public const string X509Thumbprint = "X509Thumbprint";
}
