using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// What a client's certificate secrets say (<see cref="SecretTypes.X509Name"/>, <see cref="SecretTypes.X509Thumbprint"/>,
/// a JWK's <c>x5c</c>), read once per client, and how a presented certificate is compared with them.
/// </summary>
internal static class ClientCertificates
{
    /// <summary>An <see cref="SecretTypes.X509Name"/> value as a name, or null when it does not parse or names nothing.</summary>
    public static X500DistinguishedName? ParseName(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        try
        {
            var name = new X500DistinguishedName(value);

            // An empty name (or an attribute without a value) would match certificates issued without a subject,
            // those that name their holder in the SAN only; such a client needs another way to be named.
            var any = false;
            foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
            {
                if (!rdn.HasMultipleElements && string.IsNullOrWhiteSpace(rdn.GetSingleElementValue()))
                {
                    return null;
                }

                any = true;
            }

            return any ? name : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether two names are the same (RFC 5280 §7.1, RFC 4518 in its simplified form): the same attributes in the same
    /// order, each value equal ignoring case and leading, trailing and repeated inner spaces. Comparing the strings
    /// would fail on a different separator or string type, and comparing the DER bytes on PrintableString against
    /// UTF8String, though both name the same client.
    /// </summary>
    public static bool NamesEqual(X500DistinguishedName expected, X500DistinguishedName presented)
    {
        using var left = expected.EnumerateRelativeDistinguishedNames().GetEnumerator();
        using var right = presented.EnumerateRelativeDistinguishedNames().GetEnumerator();
        while (true)
        {
            var more = left.MoveNext();
            if (more != right.MoveNext())
            {
                return false;
            }

            if (!more)
            {
                return true;
            }

            if (!RdnEqual(left.Current, right.Current))
            {
                return false;
            }
        }
    }

    private static bool RdnEqual(X500RelativeDistinguishedName a, X500RelativeDistinguishedName b)
    {
        if (a.HasMultipleElements || b.HasMultipleElements)
        {
            // Multi-valued RDNs are rare enough in client certificates that their exact encoding is required.
            return a.RawData.Span.SequenceEqual(b.RawData.Span);
        }

        return a.GetSingleElementType().Value == b.GetSingleElementType().Value
            && string.Equals(Prepare(a.GetSingleElementValue()), Prepare(b.GetSingleElementValue()), StringComparison.OrdinalIgnoreCase);
    }

    private static string? Prepare(string? value)
        => value is null ? null : string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// An <see cref="SecretTypes.X509Thumbprint"/> value as bytes: hex of SHA-1 (40 characters) or SHA-256 (64),
    /// either case, spaces and colons (as certificate viewers show them) allowed; null otherwise.
    /// </summary>
    public static byte[]? ParseThumbprint(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var hex = value.Replace(" ", "", StringComparison.Ordinal).Replace(":", "", StringComparison.Ordinal);
        if (hex.Length is not (SHA1.HashSizeInBytes * 2 or SHA256.HashSizeInBytes * 2))
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The SHA-256 of the first certificate in a JWK secret's <c>x5c</c> (RFC 7517 §4.7), or null when it has none.</summary>
    public static byte[]? X5cThumbprint(string? jwk)
    {
        if (string.IsNullOrEmpty(jwk))
        {
            return null;
        }

        try
        {
            var key = new JsonWebKey(jwk);
            return key.X5c.Count > 0 && key.X5c[0] is { } first
                ? SHA256.HashData(Convert.FromBase64String(first))
                : null;
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="certificate"/> hashes to <paramref name="thumbprint"/>, with the hash its length names, in constant time.</summary>
    public static bool Matches(X509Certificate2 certificate, byte[] thumbprint)
    {
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        var written = thumbprint.Length == SHA1.HashSizeInBytes
            ? SHA1.HashData(certificate.RawDataMemory.Span, actual)
            : SHA256.HashData(certificate.RawDataMemory.Span, actual);
        return CryptographicOperations.FixedTimeEquals(actual[..written], thumbprint);
    }
}
