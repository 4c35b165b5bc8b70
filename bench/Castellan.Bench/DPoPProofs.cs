using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench;

/// <summary>DPoP proofs (RFC 9449 §4.2) for the <c>castellan-dpop</c> variant: one ES256 key, a fresh jti each.</summary>
internal static class DPoPProofs
{
    public static string[] Create(int count, string method, string uri)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = new ECDsaSecurityKey(ecdsa);
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
                Claims = new Dictionary<string, object>
                {
                    ["jti"] = Guid.NewGuid().ToString("N"),
                    ["htm"] = method,
                    ["htu"] = uri,
                    ["iat"] = iat,
                },
                SigningCredentials = credentials,
            });
        }

        return proofs;
    }
}
