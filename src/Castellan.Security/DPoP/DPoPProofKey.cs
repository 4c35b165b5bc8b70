using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Security;

/// <summary>The checks on a proof's <c>jwk</c>, and the verification key built from it.</summary>
internal static class DPoPProofKey
{
    // RFC 7518 §3.3: RSA keys of 2048 bits or more. 8192 bits bounds the import cost of a hostile key.
    private const int MinRsaModulusBytes = 256;
    private const int MaxRsaModulusBytes = 1024;
    private const int MaxRsaExponentBytes = 8;

    // Verification only, and no cache of its own: SignatureProviderCache holds the providers worth keeping.
    private static readonly CryptoProviderFactory Factory = new() { CacheSignatureProviders = false };

    /// <summary>
    /// RFC 9449 §4.3 step 7: the key must be public. A JWK carrying any private member (RFC 7518 §6.2.2, §6.3.2) or
    /// a symmetric key (§6.4) is refused outright, even if it would verify: the client has leaked its key.
    /// </summary>
    public static bool HasPrivateMembers(JsonWebKey key)
        => key.Kty == JsonWebAlgorithmsKeyTypes.Octet
            || key.D is not null || key.P is not null || key.Q is not null
            || key.DP is not null || key.DQ is not null || key.QI is not null
            || key.K is not null || key.Oth.Count > 0;

    /// <summary>Whether the key's type (and curve) is the one the algorithm uses (RFC 7518 §3.3–3.5).</summary>
    public static bool FitsAlgorithm(JsonWebKey key, string algorithm) => algorithm switch
    {
        SecurityAlgorithms.EcdsaSha256 => IsEc(key, JsonWebKeyECTypes.P256),
        SecurityAlgorithms.EcdsaSha384 => IsEc(key, JsonWebKeyECTypes.P384),
        SecurityAlgorithms.EcdsaSha512 => IsEc(key, JsonWebKeyECTypes.P521),
        SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.RsaSha384 or SecurityAlgorithms.RsaSha512
            or SecurityAlgorithms.RsaSsaPssSha256 or SecurityAlgorithms.RsaSsaPssSha384 or SecurityAlgorithms.RsaSsaPssSha512
            => key.Kty == JsonWebAlgorithmsKeyTypes.RSA,
        _ => false,
    };

    private static bool IsEc(JsonWebKey key, string curve) => key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve && key.Crv == curve;

    /// <summary>
    /// A signature provider for the key, or null when its members are not a valid public key. The key is built from
    /// exactly the members its thumbprint covers (x and y, or n and e) and nothing else: were it built from the JWK
    /// as a whole, a member the thumbprint ignores (an <c>x5c</c>, say) could supply a different key, and a proof
    /// signed by an attacker's key would carry the thumbprint of the victim's.
    /// </summary>
    public static SignatureProvider? CreateVerifier(JsonWebKey key, string algorithm)
    {
        AsymmetricAlgorithm? imported = null;
        try
        {
            SecurityKey? securityKey = null;
            if (key.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve)
            {
                var ecdsa = TryImportEc(key);
                imported = ecdsa;
                securityKey = ecdsa is null ? null : new ECDsaSecurityKey(ecdsa);
            }
            else
            {
                var rsa = TryImportRsa(key);
                imported = rsa;
                securityKey = rsa is null ? null : new RsaSecurityKey(rsa);
            }

            return securityKey is null ? null : Factory.CreateForVerifying(securityKey, algorithm);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or NotSupportedException)
        {
            // The import's own checks (a point not on the curve, say): rare enough to pay for an exception.
            imported?.Dispose();
            return null;
        }
    }

    private static ECDsa? TryImportEc(JsonWebKey key)
    {
        ECCurve curve;
        int size;
        switch (key.Crv)
        {
            case JsonWebKeyECTypes.P256: (curve, size) = (ECCurve.NamedCurves.nistP256, 32); break;
            case JsonWebKeyECTypes.P384: (curve, size) = (ECCurve.NamedCurves.nistP384, 48); break;
            case JsonWebKeyECTypes.P521: (curve, size) = (ECCurve.NamedCurves.nistP521, 66); break;
            default: return null;
        }

        // RFC 7518 §6.2.1.2: x and y are exactly the curve's coordinate size. The import checks the point is on the curve.
        var x = TryDecode(key.X, size, size);
        var y = TryDecode(key.Y, size, size);
        return x is null || y is null ? null : ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } });
    }

    private static RSA? TryImportRsa(JsonWebKey key)
    {
        var modulus = TryDecode(key.N, MinRsaModulusBytes, MaxRsaModulusBytes);
        var exponent = TryDecode(key.E, 1, MaxRsaExponentBytes);

        // An even exponent, or 1, is no RSA key (with e = 1 any message is its own signature).
        if (modulus is null || exponent is null || (exponent[^1] & 1) == 0 || (exponent.Length == 1 && exponent[0] < 3))
        {
            return null;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = exponent });
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static byte[]? TryDecode(string? value, int minLength, int maxLength)
    {
        if (value is null || Base64Url.GetMaxDecodedLength(value.Length) > maxLength)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[MaxRsaModulusBytes];
        return Base64UrlDecoder.TryDecode(value, buffer, out var written) && written >= minLength && written <= maxLength
            ? buffer[..written].ToArray()
            : null;
    }
}
