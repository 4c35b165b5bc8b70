using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Castellan.Security;

/// <summary>
/// The certificate thumbprint that binds a token to a client certificate: <c>x5t#S256</c>, the base64url (no padding)
/// SHA-256 of the certificate's DER encoding (RFC 8705 §3.1). The token server writes it into <c>cnf</c>, and an API
/// compares the certificate the caller presents with it.
/// </summary>
public static class CertificateThumbprint
{
    /// <summary>The name of the confirmation member (RFC 8705 §3.1).</summary>
    public const string ConfirmationMember = "x5t#S256";

    public static string ComputeSha256Base64Url(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawDataMemory.Span, hash);
        return Base64Url.EncodeToString(hash);
    }

    /// <summary>Whether <paramref name="certificate"/> is the one <paramref name="thumbprint"/> names, compared in constant time.</summary>
    public static bool Matches(X509Certificate2 certificate, string thumbprint)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(thumbprint);
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        if (thumbprint.Length != 43 || !Base64UrlDecoder.TryDecode(thumbprint, expected, out var written) || written != expected.Length)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawDataMemory.Span, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
