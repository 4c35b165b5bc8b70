using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Keys;

/// <summary>
/// An immutable snapshot of the keys in force: one signing credential per algorithm, and every key the
/// JWKS publishes (pre-serialized). Replaced as a whole when the key set changes.
/// </summary>
internal sealed class KeyRing
{
    public KeyRing(IReadOnlyList<(string Algorithm, SigningCredentials Credentials)> signing, IReadOnlyList<PublishedKey> published, DateTimeOffset refreshAfter)
    {
        if (signing.Count == 0)
        {
            throw new InvalidOperationException("No signing key is available.");
        }

        DefaultAlgorithm = signing[0].Algorithm;
        Signing = signing.GroupBy(s => s.Algorithm).ToFrozenDictionary(g => g.Key, g => g.First().Credentials, StringComparer.Ordinal);
        Algorithms = signing.Select(s => s.Algorithm).Distinct().ToArray();
        Published = published;
        RefreshAfter = refreshAfter;
        JwksJson = WriteJwks(published);
        ValidationKeys = published.Select(p => p.ToSecurityKey()).ToArray();
        ETag = Protocol.EntityTags.Of(JwksJson);
    }

    public string DefaultAlgorithm { get; }

    public IReadOnlyList<string> Algorithms { get; }

    public FrozenDictionary<string, SigningCredentials> Signing { get; }

    public IReadOnlyList<PublishedKey> Published { get; }

    public DateTimeOffset RefreshAfter { get; }

    /// <summary>Public keys of everything published, for validating this server's own tokens in-process.</summary>
    public IReadOnlyList<SecurityKey> ValidationKeys { get; }

    /// <summary>The JWKS document (RFC 7517 §5), public parts only.</summary>
    public byte[] JwksJson { get; }

    public string ETag { get; }

    private static byte[] WriteJwks(IReadOnlyList<PublishedKey> keys)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("keys");
            foreach (var key in keys)
            {
                writer.WriteStartObject();
                if (key.Rsa is { } rsa)
                {
                    writer.WriteString("kty", "RSA");
                    writer.WriteString("use", "sig");
                    writer.WriteString("kid", key.KeyId);
                    writer.WriteString("alg", key.Algorithm);
                    writer.WriteString("n", Base64UrlEncoder.Encode(rsa.Modulus));
                    writer.WriteString("e", Base64UrlEncoder.Encode(rsa.Exponent));
                }
                else if (key.EC is { } ec)
                {
                    writer.WriteString("kty", "EC");
                    writer.WriteString("use", "sig");
                    writer.WriteString("kid", key.KeyId);
                    writer.WriteString("alg", key.Algorithm);
                    writer.WriteString("crv", "P-256");
                    writer.WriteString("x", Base64UrlEncoder.Encode(ec.Q.X));
                    writer.WriteString("y", Base64UrlEncoder.Encode(ec.Q.Y));
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

/// <summary>The public half of a key as published in the JWKS. Private parameters are never captured here.</summary>
internal sealed record PublishedKey(string KeyId, string Algorithm, RSAParameters? Rsa, ECParameters? EC)
{
    public SecurityKey ToSecurityKey()
        => Rsa is { } rsa
            ? new RsaSecurityKey(rsa) { KeyId = KeyId }
            : new ECDsaSecurityKey(ECDsa.Create(EC!.Value)) { KeyId = KeyId };

    public static PublishedKey From(SecurityKey key, string algorithm)
    {
        switch (key)
        {
            case RsaSecurityKey rsa:
                var rsaParameters = rsa.Rsa is not null ? rsa.Rsa.ExportParameters(false) : rsa.Parameters;
                return new(key.KeyId, algorithm, new RSAParameters { Modulus = rsaParameters.Modulus, Exponent = rsaParameters.Exponent }, null);
            case ECDsaSecurityKey ec:
                return new(key.KeyId, algorithm, null, ec.ECDsa.ExportParameters(false));
            case X509SecurityKey x509 when x509.Certificate.GetRSAPublicKey() is { } certRsa:
                using (certRsa)
                {
                    return new(key.KeyId, algorithm, certRsa.ExportParameters(false), null);
                }

            case X509SecurityKey x509 when x509.Certificate.GetECDsaPublicKey() is { } certEc:
                using (certEc)
                {
                    return new(key.KeyId, algorithm, null, certEc.ExportParameters(false));
                }

            default:
                throw new InvalidOperationException($"Key '{key.KeyId}' of type {key.GetType().Name} cannot be published; use RSA or ECDSA keys.");
        }
    }
}
