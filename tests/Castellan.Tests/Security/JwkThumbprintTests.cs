using System.Buffers.Text;
using System.Security.Cryptography;
using Castellan.Security;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tests.Security;

public sealed class JwkThumbprintTests
{
    // RFC 7638 §3.1.
    private const string RfcModulus =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    [Fact]
    public void Rsa_key_of_rfc7638_section_3_1_has_the_rfcs_thumbprint()
    {
        var key = new JsonWebKey($$"""{"kty":"RSA","n":"{{RfcModulus}}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}""");
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", JwkThumbprint.ComputeSha256Base64Url(key));
    }

    [Fact]
    public void Okp_key_of_rfc8037_appendix_a_3_has_the_rfcs_thumbprint()
    {
        var key = new JsonWebKey("""{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""");
        Assert.Equal("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", JwkThumbprint.ComputeSha256Base64Url(key));
    }

    [Fact]
    public void Ec_and_rsa_thumbprints_agree_with_Microsoft_IdentityModel()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var keys = new[]
        {
            JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ecdsa)),
            JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false))),
        };

        foreach (var key in keys)
        {
            Assert.Equal(Base64Url.EncodeToString(key.ComputeJwkThumbprint()), JwkThumbprint.ComputeSha256Base64Url(key));
        }
    }

    [Fact]
    public void Optional_members_do_not_change_the_thumbprint()
    {
        var bare = new JsonWebKey($$"""{"kty":"RSA","n":"{{RfcModulus}}","e":"AQAB"}""");
        var decorated = new JsonWebKey($$"""{"e":"AQAB","use":"sig","kid":"k1","alg":"PS256","n":"{{RfcModulus}}","kty":"RSA","x5t":"abc"}""");
        Assert.Equal(JwkThumbprint.ComputeSha256Base64Url(bare), JwkThumbprint.ComputeSha256Base64Url(decorated));
    }

    [Theory]
    [InlineData("""{"kty":"oct","k":"AAAA"}""")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"AAAA"}""")]
    [InlineData("""{"kty":"RSA","n":"AAAA"}""")]
    [InlineData("""{"kty":"ec","crv":"P-256","x":"AAAA","y":"AAAA"}""")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"AA\"AA","y":"AAAA"}""")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"AAé","y":"AAAA"}""")]
    [InlineData("""{"crv":"P-256","x":"AAAA","y":"AAAA"}""")]
    public void Key_without_a_thumbprint_is_refused(string json)
    {
        var key = new JsonWebKey(json);
        Assert.False(JwkThumbprint.TryComputeSha256Base64Url(key, out var thumbprint));
        Assert.Null(thumbprint);
        Assert.Throws<ArgumentException>(() => JwkThumbprint.ComputeSha256Base64Url(key));
    }

    [Fact]
    public void Large_rsa_key_is_hashed_from_a_pooled_buffer()
    {
        using var rsa = RSA.Create(8192);
        var key = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)));
        Assert.Equal(Base64Url.EncodeToString(key.ComputeJwkThumbprint()), JwkThumbprint.ComputeSha256Base64Url(key));
    }
}
