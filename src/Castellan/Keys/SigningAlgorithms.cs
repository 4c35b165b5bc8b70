using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Keys;

/// <summary>The asymmetric JWS algorithms Castellan signs with (RFC 7518 §3). <c>none</c> and HMAC never are.</summary>
public static class SigningAlgorithms
{
    public const string RS256 = SecurityAlgorithms.RsaSha256;
    public const string PS256 = SecurityAlgorithms.RsaSsaPssSha256;
    public const string ES256 = SecurityAlgorithms.EcdsaSha256;

    public static IReadOnlyList<string> Supported { get; } = [RS256, PS256, ES256];

    public static bool IsSupported(string algorithm) => algorithm is RS256 or PS256 or ES256;

    internal static bool IsRsa(string algorithm) => algorithm is RS256 or PS256;

    /// <summary>Creates a fresh private key for <paramref name="algorithm"/>.</summary>
    internal static AsymmetricAlgorithm CreateKey(string algorithm, int rsaKeySize) => algorithm switch
    {
        RS256 or PS256 => RSA.Create(rsaKeySize),
        ES256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        _ => throw new NotSupportedException($"Signing algorithm '{algorithm}' is not supported. Use RS256, PS256 or ES256."),
    };

    internal static SecurityKey ToSecurityKey(AsymmetricAlgorithm key, string keyId) => key switch
    {
        RSA rsa => new RsaSecurityKey(rsa) { KeyId = keyId },
        ECDsa ecdsa => new ECDsaSecurityKey(ecdsa) { KeyId = keyId },
        _ => throw new NotSupportedException("Only RSA and ECDSA keys are supported."),
    };

    internal static AsymmetricAlgorithm ImportPkcs8(string algorithm, ReadOnlySpan<byte> pkcs8)
    {
        AsymmetricAlgorithm key = IsRsa(algorithm) ? RSA.Create() : ECDsa.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return key;
    }

    /// <summary>Checks that <paramref name="key"/> can sign with <paramref name="algorithm"/>; throws a configuration error otherwise.</summary>
    internal static void EnsureCompatible(SecurityKey key, string algorithm)
    {
        if (!IsSupported(algorithm))
        {
            throw new InvalidOperationException($"Signing algorithm '{algorithm}' is not supported. Use RS256, PS256 or ES256.");
        }

        var isRsa = key switch
        {
            RsaSecurityKey => true,
            ECDsaSecurityKey => false,
            X509SecurityKey x509 => x509.Certificate.GetRSAPublicKey() is not null,
            JsonWebKey jwk => jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA,
            _ => throw new InvalidOperationException($"Key type {key.GetType().Name} cannot be used for signing; use an RSA or ECDSA key."),
        };
        if (isRsa != IsRsa(algorithm))
        {
            throw new InvalidOperationException($"Key '{key.KeyId}' cannot sign with {algorithm}: RS256/PS256 need an RSA key, ES256 a P-256 key.");
        }

        if (key is AsymmetricSecurityKey { PrivateKeyStatus: PrivateKeyStatus.DoesNotExist })
        {
            throw new InvalidOperationException($"Key '{key.KeyId}' has no private key and cannot sign.");
        }
    }

    /// <summary>A key id for a certificate: its SHA-256 thumbprint, base64url (as x5t#S256, RFC 7517 §4.9).</summary>
    internal static string KeyIdFor(X509Certificate2 certificate)
        => Base64UrlEncoder.Encode(certificate.GetCertHash(HashAlgorithmName.SHA256));
}
