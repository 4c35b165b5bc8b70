using System.Security.Cryptography;
using System.Text;

namespace Castellan.Clients;

/// <summary>Stored secret hashes in lookup form, and the constant-time check of a presented secret against them.</summary>
internal static class SecretVerifier
{
    /// <summary>One random hash nothing can match: compared against when there is no real client, so the work is the same.</summary>
    public static readonly (byte[] Hash, DateTimeOffset? Expiration)[] Decoy = [(RandomNumberGenerator.GetBytes(32), null)];

    public static (byte[] Hash, DateTimeOffset? Expiration)[] Decode(IEnumerable<Secret> secrets)
    {
        var decoded = new List<(byte[], DateTimeOffset?)>();
        foreach (var secret in secrets)
        {
            if (secret.Type != SecretTypes.SharedSecret)
            {
                continue;
            }

            var hash = new byte[32];
            // A malformed stored hash simply never matches; configuration validation reports it at startup.
            if (Convert.TryFromBase64String(secret.Value, hash, out var written) && written == 32)
            {
                decoded.Add((hash, secret.Expiration));
            }
        }

        return decoded.ToArray();
    }

    public static bool Matches((byte[] Hash, DateTimeOffset? Expiration)[] stored, string presented, DateTimeOffset now)
    {
        // Hash the presented secret to the stored fixed length first, so the comparison is constant-time and
        // leaks neither content nor length.
        Span<byte> hash = stackalloc byte[32];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(presented.Length);
        var utf8 = maxBytes <= 1024 ? stackalloc byte[1024] : new byte[maxBytes];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        SHA256.HashData(utf8[..length], hash);
        utf8[..length].Clear();

        var matched = false;
        foreach (var (candidate, expiration) in stored)
        {
            // No early exit: every stored secret is compared.
            matched |= CryptographicOperations.FixedTimeEquals(hash, candidate) && (expiration is null || expiration > now);
        }

        return matched;
    }
}
