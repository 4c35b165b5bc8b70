using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench;

/// <summary>
/// DPoP proofs (RFC 9449 §4.2) for the <c>castellan-dpop</c> and <c>api-castellan-dpop</c> variants: one ES256 key,
/// a fresh jti each, and at a resource the <c>ath</c> of the token they go with.
/// </summary>
internal static class DPoPProofs
{
    public static string[] Create(int count, string method, string uri)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Create(count, method, uri, ecdsa, accessToken: null);
    }

    /// <param name="ecdsa">The client's key: the one its token is bound to, at a resource.</param>
    /// <param name="accessToken">At a resource, the token the proofs go with.</param>
    public static string[] Create(int count, string method, string uri, ECDsa ecdsa, string? accessToken)
    {
        var key = new ECDsaSecurityKey(ecdsa);
        var ath = accessToken is null ? null : Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(accessToken)));
        var publicJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(false))));
        var jwk = new Dictionary<string, object> { ["kty"] = publicJwk.Kty, ["crv"] = publicJwk.Crv, ["x"] = publicJwk.X, ["y"] = publicJwk.Y };
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var credentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256);
        var iat = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var proofs = new string[count];
        for (var i = 0; i < count; i++)
        {
            proofs[i] = handler.CreateToken(new SecurityTokenDescriptor
            {
                TokenType = "dpop+jwt",
                AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = jwk },
                Claims = ath is null
                    ? new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString("N"), ["htm"] = method, ["htu"] = uri, ["iat"] = iat }
                    : new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString("N"), ["htm"] = method, ["htu"] = uri, ["iat"] = iat, ["ath"] = ath },
                SigningCredentials = credentials,
            });
        }

        return proofs;
    }
}
