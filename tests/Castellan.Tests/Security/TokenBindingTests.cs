using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Castellan.Security;

namespace Castellan.Tests.Security;

/// <summary>
/// The one rule for a token's <c>cnf</c> (RFC 7800): what it binds to, and refusal of what cannot be checked, so a
/// sender-constrained token never turns into a bearer token because a member was ignored.
/// </summary>
public sealed class TokenBindingTests
{
    private const string Jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    private const string X5t = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";

    [Theory]
    [InlineData("""{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}""", Jkt, null)]
    [InlineData("""{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}""", null, X5t)]
    [InlineData("""{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}""", Jkt, X5t)]
    public void Known_members_bind_the_token(string cnf, string? jkt, string? x5t)
    {
        var binding = TokenBinding.Parse(cnf);
        Assert.Equal(new TokenBinding(jkt, x5t, Unverifiable: false), binding);
        Assert.True(binding.IsBound);
    }

    [Theory]
    [InlineData("""{"jwk":{"kty":"EC"}}""")]
    [InlineData("""{"jkt":"a","kid":"b"}""")]
    [InlineData("""{"jkt":"a","jkt":"b"}""")]
    [InlineData("""{"jkt":42}""")]
    [InlineData("""{"jkt":""}""")]
    [InlineData("""{}""")]
    [InlineData("""["jkt"]""")]
    [InlineData("\"jkt\"")]
    [InlineData("{not json")]
    public void Anything_else_is_unverifiable_and_still_counts_as_bound(string cnf)
    {
        var binding = TokenBinding.Parse(cnf);
        Assert.True(binding.Unverifiable);
        Assert.True(binding.IsBound);
        Assert.Null(binding.JwkThumbprint);
        Assert.Null(binding.CertificateThumbprint);
    }

    [Fact]
    public void Identity_without_cnf_is_a_bearer_token_and_two_cnf_claims_are_unverifiable()
    {
        Assert.False(TokenBinding.From(new ClaimsIdentity([new Claim("sub", "alice")])).IsBound);
        var twice = new ClaimsIdentity([new Claim("cnf", $$"""{"jkt":"{{Jkt}}"}"""), new Claim("cnf", $$"""{"jkt":"{{Jkt}}"}""")]);
        Assert.True(TokenBinding.From(twice).Unverifiable);
    }

    [Fact]
    public void Certificate_thumbprint_matches_only_its_certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=client", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var other = new CertificateRequest("CN=client", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(2));
        var thumbprint = CertificateThumbprint.ComputeSha256Base64Url(certificate);

        Assert.Equal(43, thumbprint.Length);
        Assert.Equal(Convert.ToBase64String(certificate.GetCertHash(HashAlgorithmName.SHA256)).TrimEnd('=').Replace('+', '-').Replace('/', '_'), thumbprint);
        Assert.True(CertificateThumbprint.Matches(certificate, thumbprint));
        Assert.False(CertificateThumbprint.Matches(other, thumbprint));
        Assert.False(CertificateThumbprint.Matches(certificate, thumbprint[..42]));
        Assert.False(CertificateThumbprint.Matches(certificate, "!" + thumbprint[1..]));
    }
}
