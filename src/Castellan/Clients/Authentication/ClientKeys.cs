using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>Which of a client's keys, registered (a JWK secret) or published (its JwksUri), may verify its assertions.</summary>
internal static class ClientKeys
{
    /// <summary>
    /// A public key for signatures: RSA or EC, complete, the kinds the assertion algorithms use (the library has no
    /// OKP); not meant for encryption (RFC 7517 §4.2, §4.3); and with no private or symmetric member. Each member is
    /// checked, because <see cref="JsonWebKey.HasPrivateKey"/> calls an RSA key private only when it has them all. A
    /// client whose private key is in its configuration or its key set has lost it, and a symmetric key there lets
    /// anyone forge assertions.
    /// </summary>
    public static bool IsVerificationKey(JsonWebKey key)
    {
        var complete = key.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.RSA => !string.IsNullOrEmpty(key.N) && !string.IsNullOrEmpty(key.E),
            JsonWebAlgorithmsKeyTypes.EllipticCurve => !string.IsNullOrEmpty(key.Crv) && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y),
            _ => false,
        };
        return complete
            && (key.Use is null || key.Use == JsonWebKeyUseNames.Sig)
            && (key.KeyOps is not { Count: > 0 } operations || operations.Contains("verify"))
            && key.D is null && key.P is null && key.Q is null && key.DP is null && key.DQ is null && key.QI is null
            && key.Oth is not { Count: > 0 } && key.K is null && key.Priv is null;
    }

    /// <summary>A public JWK from a secret's value, or null when it is not one (configuration validation says why).</summary>
    public static JsonWebKey? FromSecret(string value)
    {
        try
        {
            var key = new JsonWebKey(value);

            // Microsoft.IdentityModel verifies with a certificate in x5c before n and e; the key registered is the one
            // its members name, so a certificate beside them is not used.
            key.X5c.Clear();
            return IsVerificationKey(key) ? key : null;
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException)
        {
            return null;
        }
    }
}
