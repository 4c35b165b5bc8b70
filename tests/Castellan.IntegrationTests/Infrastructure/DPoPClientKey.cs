using System.Security.Cryptography;
using System.Text.Json;
using Castellan.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>
/// A client's DPoP key (P-256) and the proofs it signs, built with <see cref="JsonWebTokenHandler"/> as a client
/// would (typ <c>dpop+jwt</c>, the public key in the <c>jwk</c> header).
/// </summary>
public sealed class DPoPClientKey(TimeProvider time) : IDisposable
{
    public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The RFC 7638 thumbprint the server must put in <c>cnf.jkt</c>.</summary>
    public string Thumbprint => JwkThumbprint.ComputeSha256Base64Url(PublicJwk());

    public JsonWebKey PublicJwk()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(Key));
        jwk.D = null;
        return jwk;
    }

    public Dictionary<string, object> JwkHeader(bool includePrivate = false)
    {
        var parameters = Key.ExportParameters(includePrivate);
        var jwk = new Dictionary<string, object>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        if (includePrivate)
        {
            jwk["d"] = Base64UrlEncoder.Encode(parameters.D);
        }

        return jwk;
    }

    /// <param name="accessToken">At a resource: the token the proof is for, giving <c>ath</c> (RFC 9449 §4.2).</param>
    /// <param name="ath">An <c>ath</c> to send instead of the right one.</param>
    public string Proof(string htm, string htu, string? accessToken = null, string? nonce = null, DateTimeOffset? iat = null,
        string? jti = null, bool privateKeyInJwk = false, string? ath = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
            ["htm"] = htm,
            ["htu"] = htu,
            ["iat"] = (iat ?? time.GetUtcNow()).ToUnixTimeSeconds(),
        };
        if ((ath ?? (accessToken is null ? null : AccessTokenHash(accessToken))) is { } hash)
        {
            claims["ath"] = hash;
        }

        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        var header = new Dictionary<string, object> { ["typ"] = DPoPConstants.ProofType, ["jwk"] = JwkHeader(privateKeyInJwk) };
        return new JsonWebTokenHandler().CreateToken(JsonSerializer.Serialize(claims),
            new SigningCredentials(new ECDsaSecurityKey(Key), SecurityAlgorithms.EcdsaSha256), header);
    }

    /// <summary>A proof whose header and signature are whatever the test says: for algorithms a real library refuses to make.</summary>
    public string UnsignedProof(string alg, Func<string, string> sign, string htm, string htu, string? accessToken = null)
    {
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["typ"] = DPoPConstants.ProofType,
            ["alg"] = alg,
            ["jwk"] = JwkHeader(),
        }));
        var claims = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = htm,
            ["htu"] = htu,
            ["iat"] = time.GetUtcNow().ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            claims["ath"] = AccessTokenHash(accessToken);
        }

        var signingInput = header + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims));
        return signingInput + "." + sign(signingInput);
    }

    /// <summary>RFC 9449 §4.2: base64url(SHA-256(ASCII(token))).</summary>
    public static string AccessTokenHash(string accessToken)
        => Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(accessToken)));

    public void Dispose() => Key.Dispose();
}
