using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Castellan.Security;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using static Castellan.Tests.Security.DPoPTestContext;

namespace Castellan.Tests.Security;

/// <summary>Every check of RFC 9449 §4.3, each failing on its own: the proof is valid but for the one thing each test breaks.</summary>
public sealed class DPoPProofValidation_Invalid
{
    private readonly DPoPTestContext _context = new();

    [Fact]
    public async Task No_proof_is_rejected()
    {
        AssertRejected(await _context.ValidateAsync(StringValues.Empty), DPoPProofFailure.MissingProof);
        AssertRejected(await _context.ValidateAsync(new StringValues("")), DPoPProofFailure.MissingProof);
    }

    [Fact]
    public async Task Two_proofs_are_rejected_even_when_both_are_valid()
    {
        var header = new StringValues([_context.Proof().Sign(), _context.Proof().Sign()]);
        AssertRejected(await _context.ValidateAsync(header), DPoPProofFailure.MultipleProofs);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("a..c")]
    [InlineData(".b.c")]
    [InlineData("a.b.")]
    [InlineData("a b.c.d")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln")]
    [InlineData("YQ.YQ.YQ")]
    [InlineData("a.b.c, d.e.f")]
    public async Task Malformed_proof_is_rejected(string proof)
        => AssertRejected(await _context.ValidateAsync(proof), DPoPProofFailure.Malformed);

    [Fact]
    public async Task Header_that_is_not_json_is_malformed()
    {
        var proof = TestProof.Raw("{\"typ\":\"dpop+jwt\",", _context.Proof().PayloadJson());
        AssertRejected(await _context.ValidateAsync(proof), DPoPProofFailure.Malformed);
    }

    [Fact]
    public async Task Proof_longer_than_the_limit_is_rejected_before_parsing()
    {
        await AssertClaimRejected("padding", new string('a', 9000), DPoPProofFailure.TooLong);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData("DPOP+JWT")]
    [InlineData("application/dpop+jwt")]
    public async Task Wrong_typ_is_rejected(string type)
    {
        var proof = _context.Proof();
        proof.Type = type;
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidType);
    }

    [Fact]
    public async Task Unsecured_proof_with_alg_none_is_rejected()
    {
        var proof = _context.Proof();
        var header = $$"""{"typ":"dpop+jwt","alg":"none","jwk":{{proof.JwkJson()}}}""";
        // As RFC 7515 §A.5 writes it (empty signature), and with a signature segment so that the alg check itself runs.
        AssertRejected(await _context.ValidateAsync(TestProof.Raw(header, proof.PayloadJson(), "")), DPoPProofFailure.Malformed);
        AssertRejected(await _context.ValidateAsync(TestProof.Raw(header, proof.PayloadJson())), DPoPProofFailure.AlgorithmNotAllowed);
    }

    [Fact]
    public async Task HS256_proof_with_a_symmetric_jwk_is_rejected()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var proof = _context.Proof();
        var header = $$$"""{"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"{{{Base64Url.EncodeToString(secret)}}}"}}""";
        var signingInput = $"{TestProof.Encode(header)}.{TestProof.Encode(proof.PayloadJson())}";
        var signature = Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)));

        AssertRejected(await _context.ValidateAsync($"{signingInput}.{signature}"), DPoPProofFailure.AlgorithmNotAllowed);
    }

    [Fact]
    public async Task Symmetric_jwk_is_rejected_whatever_the_alg()
    {
        var proof = _context.Proof();
        proof.Jwk = new() { ["kty"] = "oct", ["k"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)) };
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.PrivateKey);
    }

    [Fact]
    public async Task Algorithm_outside_the_allow_list_is_rejected()
    {
        var context = new DPoPTestContext(configure: o => o.AllowedAlgorithms = ["ES256"]);
        var proof = context.Proof(ProofKey.Ec(SecurityAlgorithms.EcdsaSha384));
        AssertRejected(await context.ValidateAsync(proof.Sign()), DPoPProofFailure.AlgorithmNotAllowed);
    }

    [Theory]
    [InlineData("d")]
    [InlineData("p")]
    [InlineData("q")]
    [InlineData("dp")]
    [InlineData("dq")]
    [InlineData("qi")]
    [InlineData("k")]
    public async Task Jwk_with_a_private_member_is_rejected(string member)
    {
        await AssertJwkMemberRejected(member, Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)), DPoPProofFailure.PrivateKey);
    }

    [Fact]
    public async Task Jwk_with_the_real_private_key_is_rejected()
    {
        var proof = _context.Proof();
        var key = (ECDsaSecurityKey)proof.Key.SigningKey;
        proof.Jwk!["d"] = Base64Url.EncodeToString(key.ECDsa.ExportParameters(true).D!);
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.PrivateKey);
    }

    [Fact]
    public async Task Missing_jwk_is_rejected()
    {
        var proof = _context.Proof();
        proof.Jwk = null;
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.MissingKey);
    }

    [Fact]
    public async Task Jwk_that_is_not_an_object_is_rejected()
    {
        var proof = _context.Proof();
        proof.Jwk = null;
        proof.ExtraHeaders["jwk"] = "eyJrdHkiOiJFQyJ9";
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.MissingKey);
    }

    [Fact]
    public async Task Jwk_of_another_key_type_than_the_alg_is_rejected()
    {
        var proof = _context.Proof();
        proof.Jwk = ProofKey.SharedRsaWith(SecurityAlgorithms.RsaSha256).JwkHeader();
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidKey);
    }

    [Fact]
    public async Task Jwk_on_another_curve_than_the_alg_is_rejected()
    {
        var proof = _context.Proof();
        proof.Jwk = ProofKey.Ec(SecurityAlgorithms.EcdsaSha384).JwkHeader();
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidKey);
    }

    [Fact]
    public async Task Jwk_whose_point_is_not_on_the_curve_is_rejected()
    {
        await AssertJwkMemberRejected("y", Base64Url.EncodeToString(new byte[32]), DPoPProofFailure.InvalidKey);
    }

    [Theory]
    [InlineData("x", "not base64url!")]
    [InlineData("x", "AAAA")]
    [InlineData("y", "")]
    public async Task Jwk_with_a_coordinate_that_is_not_one_is_rejected(string member, string value)
    {
        await AssertJwkMemberRejected(member, value, DPoPProofFailure.InvalidKey);
    }

    [Fact]
    public async Task Rsa_key_shorter_than_2048_bits_is_rejected()
    {
        using var rsa = RSA.Create(1024);
        var key = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)));
        var proof = _context.Proof(ProofKey.SharedRsaWith(SecurityAlgorithms.RsaSha256));
        proof.Jwk = new() { ["kty"] = "RSA", ["n"] = key.N, ["e"] = key.E };
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidKey);
    }

    [Fact]
    public async Task Bad_signature_is_rejected()
    {
        var proof = _context.Proof();
        proof.Jwk = ProofKey.Ec().JwkHeader();
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidSignature);
    }

    [Fact]
    public async Task Changed_payload_breaks_the_signature()
    {
        var proof = _context.Proof();
        var parts = proof.Sign().Split('.');
        proof.Claims["jti"] = "another";
        var tampered = $"{parts[0]}.{TestProof.Encode(proof.PayloadJson())}.{parts[2]}";
        AssertRejected(await _context.ValidateAsync(tampered), DPoPProofFailure.InvalidSignature);
    }

    [Fact]
    public async Task Signature_of_a_key_seen_before_is_still_checked()
    {
        var key = ProofKey.Ec();
        Assert.True((await _context.ValidateAsync(_context.Proof(key).Sign())).IsValid);

        var proof = _context.Proof(key);
        var parts = proof.Sign().Split('.');
        proof.Claims["htm"] = "GET";
        var tampered = $"{parts[0]}.{TestProof.Encode(proof.PayloadJson())}.{parts[2]}";
        AssertRejected(await _context.ValidateAsync(tampered, method: "GET"), DPoPProofFailure.InvalidSignature);
    }

    [Theory]
    [InlineData("EC")]
    [InlineData("RSA")]
    public async Task Certificate_in_the_jwk_cannot_stand_in_for_the_key_its_thumbprint_names(string keyType)
    {
        // An attacker signs with their own key but names the victim's public key in the members the thumbprint
        // covers, adding a certificate for their own key. The thumbprint is the victim's, so the signature must be
        // checked against exactly those members.
        var (victim, attacker, certificate) = keyType == "EC" ? EcPair() : RsaPair();
        using (certificate)
        {
            var proof = _context.Proof(attacker);
            proof.Jwk = victim.JwkHeader();
            proof.Jwk["x5c"] = new[] { Convert.ToBase64String(certificate.RawData) };

            var result = await _context.ValidateAsync(proof.Sign(), expectedThumbprint: victim.Thumbprint);

            AssertRejected(result, DPoPProofFailure.InvalidSignature);
        }

        static (ProofKey, ProofKey, X509Certificate2) EcPair()
        {
            var attacker = ProofKey.Ec();
            var request = new CertificateRequest("CN=attacker", ((ECDsaSecurityKey)attacker.SigningKey).ECDsa, HashAlgorithmName.SHA256);
            return (ProofKey.Ec(), attacker, request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)));
        }

        static (ProofKey, ProofKey, X509Certificate2) RsaPair()
        {
            var attacker = ProofKey.SharedRsaWith(SecurityAlgorithms.RsaSha256);
            var rsa = ((RsaSecurityKey)attacker.SigningKey).Rsa;
            var request = new CertificateRequest("CN=attacker", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return (ProofKey.OtherRsaWith(SecurityAlgorithms.RsaSha256), attacker,
                request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)));
        }
    }

    [Fact]
    public async Task Proof_key_other_than_the_tokens_jkt_is_rejected()
    {
        var proof = _context.Proof();
        AssertRejected(await _context.ValidateAsync(proof.Sign(), expectedThumbprint: ProofKey.Ec().Thumbprint), DPoPProofFailure.KeyMismatch);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("post")]
    [InlineData("PUT")]
    public async Task Wrong_htm_is_rejected(string htm)
    {
        await AssertClaimRejected("htm", htm, DPoPProofFailure.MethodMismatch);
    }

    [Theory]
    [InlineData("https://login.example.com/connect/userinfo")]
    [InlineData("https://login.example.com/connect/token/")]
    [InlineData("https://login.example.com/Connect/Token")]
    [InlineData("http://login.example.com/connect/token")]
    [InlineData("https://login.example.com:8443/connect/token")]
    [InlineData("https://evil.example.com/connect/token")]
    [InlineData("https://user@login.example.com/connect/token")]
    [InlineData("/connect/token")]
    [InlineData("ftp://login.example.com/connect/token")]
    [InlineData("not a uri")]
    public async Task Wrong_htu_is_rejected(string htu)
    {
        await AssertClaimRejected("htu", htu, DPoPProofFailure.UriMismatch);
    }

    [Fact]
    public async Task Iat_older_than_the_window_is_rejected()
    {
        await AssertClaimRejected("iat", _context.Time.GetUtcNow().AddSeconds(-61).ToUnixTimeSeconds(), DPoPProofFailure.IssuedTooLongAgo);
    }

    [Fact]
    public async Task Proof_is_rejected_once_the_window_has_passed()
    {
        var proof = _context.Proof().Sign();
        _context.Time.Advance(TimeSpan.FromSeconds(61));
        AssertRejected(await _context.ValidateAsync(proof), DPoPProofFailure.IssuedTooLongAgo);
    }

    [Fact]
    public async Task Iat_in_the_future_beyond_the_window_is_rejected()
    {
        await AssertClaimRejected("iat", _context.Time.GetUtcNow().AddSeconds(61).ToUnixTimeSeconds(), DPoPProofFailure.IssuedInTheFuture);
    }

    [Fact]
    public async Task Clock_skew_widens_the_window()
    {
        var context = new DPoPTestContext(configure: o => o.ClockSkew = TimeSpan.FromSeconds(30));
        var proof = context.Proof();
        proof.Claims["iat"] = context.Time.GetUtcNow().AddSeconds(-85).ToUnixTimeSeconds();
        Assert.True((await context.ValidateAsync(proof.Sign())).IsValid);

        proof = context.Proof();
        proof.Claims["iat"] = context.Time.GetUtcNow().AddSeconds(-95).ToUnixTimeSeconds();
        AssertRejected(await context.ValidateAsync(proof.Sign()), DPoPProofFailure.IssuedTooLongAgo);
    }

    [Fact]
    public async Task Replayed_proof_is_rejected()
    {
        var proof = _context.Proof().Sign();
        Assert.True((await _context.ValidateAsync(proof)).IsValid);
        AssertRejected(await _context.ValidateAsync(proof), DPoPProofFailure.Replayed);
    }

    [Fact]
    public async Task Replayed_proof_is_rejected_until_its_window_ends_even_if_the_clock_moves()
    {
        var proof = _context.Proof().Sign();
        Assert.True((await _context.ValidateAsync(proof)).IsValid);
        _context.Time.Advance(TimeSpan.FromSeconds(60));
        AssertRejected(await _context.ValidateAsync(proof), DPoPProofFailure.Replayed);
    }

    [Fact]
    public async Task New_proof_reusing_a_jti_of_the_same_key_is_rejected()
    {
        var key = ProofKey.Ec();
        var first = _context.Proof(key);
        Assert.True((await _context.ValidateAsync(first.Sign())).IsValid);

        var second = _context.Proof(key);
        second.Claims["jti"] = first.Claims["jti"];
        second.Claims["htm"] = "GET";
        AssertRejected(await _context.ValidateAsync(second.Sign(), method: "GET"), DPoPProofFailure.Replayed);
    }

    [Fact]
    public async Task Rejected_proof_does_not_use_up_its_jti()
    {
        var proof = _context.Proof();
        AssertRejected(await _context.ValidateAsync(proof.Sign(), method: "GET"), DPoPProofFailure.MethodMismatch);
        Assert.True((await _context.ValidateAsync(proof.Sign())).IsValid);
    }

    [Fact]
    public async Task Wrong_ath_is_rejected()
    {
        await AssertClaimRejected("ath", Ath("another-token"), DPoPProofFailure.AccessTokenHashMismatch, accessToken: "the-token");
    }

    [Theory]
    [InlineData("not base64url!")]
    [InlineData("AAAA")]
    public async Task Ath_that_is_no_sha256_hash_is_rejected(string ath)
    {
        await AssertClaimRejected("ath", ath, DPoPProofFailure.AccessTokenHashMismatch, accessToken: "the-token");
    }

    [Fact]
    public async Task Missing_ath_is_rejected_when_an_access_token_is_presented()
    {
        var proof = _context.Proof();
        AssertRejected(await _context.ValidateAsync(proof.Sign(), accessToken: "the-token"), DPoPProofFailure.MissingAccessTokenHash);
    }

    [Theory]
    [InlineData("jti")]
    [InlineData("htm")]
    [InlineData("htu")]
    [InlineData("iat")]
    public async Task Missing_required_claim_is_rejected(string claim)
    {
        var proof = _context.Proof();
        proof.Claims.Remove(claim);
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.InvalidClaim);
    }

    public static TheoryData<string, object> WrongTypes => new()
    {
        { "jti", 12345 },
        { "jti", "" },
        { "htm", new[] { "POST" } },
        { "htu", new Dictionary<string, object> { ["href"] = "https://login.example.com/connect/token" } },
        // A numeric string: Microsoft.IdentityModel's claim set would read this as a number.
        { "iat", DPoPTestContext.Start.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "iat", true },
        { "ath", 42 },
        { "nonce", 42 },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task Claim_of_the_wrong_json_type_is_rejected(string claim, object value)
    {
        var proof = _context.Proof();
        proof.Claims[claim] = value;
        var result = await _context.ValidateAsync(proof.Sign(), accessToken: claim == "ath" ? "the-token" : null);
        Assert.False(result.IsValid);
        Assert.True(result.Failure is DPoPProofFailure.InvalidClaim or DPoPProofFailure.Malformed, $"{result.Failure}");
        Assert.Equal(DPoPConstants.InvalidDPoPProof, result.Error);
    }

    [Fact]
    public async Task Jti_longer_than_the_limit_is_rejected()
    {
        await AssertClaimRejected("jti", new string('j', 129), DPoPProofFailure.InvalidClaim);
    }

    [Fact]
    public async Task Repeated_claim_is_rejected()
    {
        // Signed, so that only the repetition is wrong.
        var key = ProofKey.Ec();
        var proof = _context.Proof(key);
        var payload = proof.PayloadJson().TrimEnd('}') + ",\"htm\":\"GET\"}";
        var header = $$"""{"alg":"ES256","typ":"dpop+jwt","jwk":{{proof.JwkJson()}}}""";
        var input = $"{TestProof.Encode(header)}.{TestProof.Encode(payload)}";
        var signature = ((ECDsaSecurityKey)key.SigningKey).ECDsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256);

        AssertRejected(await _context.ValidateAsync($"{input}.{Base64Url.EncodeToString(signature)}"), DPoPProofFailure.InvalidClaim);
    }

    [Fact]
    public async Task Critical_header_is_rejected()
    {
        var proof = _context.Proof();
        proof.ExtraHeaders["crit"] = new[] { "exp" };
        AssertRejected(await _context.ValidateAsync(proof.Sign()), DPoPProofFailure.UnsupportedCriticalHeader);
    }

    [Fact]
    public async Task Required_nonce_that_is_missing_asks_for_one()
    {
        var nonces = Nonces();
        var result = await _context.ValidateAsync(_context.Proof().Sign(), nonces: nonces);
        AssertRejected(result, DPoPProofFailure.NonceRequired, DPoPConstants.UseDPoPNonce);
    }

    [Fact]
    public async Task Expired_nonce_asks_for_a_new_one()
    {
        var nonces = Nonces();
        var nonce = nonces.GetCurrentNonce();
        _context.Time.Advance(TimeSpan.FromMinutes(6));
        var proof = _context.Proof();
        proof.Claims["nonce"] = nonce;

        AssertRejected(await _context.ValidateAsync(proof.Sign(), nonces: nonces), DPoPProofFailure.InvalidNonce, DPoPConstants.UseDPoPNonce);
    }

    [Fact]
    public async Task Nonce_the_server_did_not_issue_asks_for_a_new_one()
    {
        var proof = _context.Proof();
        proof.Claims["nonce"] = "made-up";
        AssertRejected(await _context.ValidateAsync(proof.Sign(), nonces: Nonces()), DPoPProofFailure.InvalidNonce, DPoPConstants.UseDPoPNonce);
    }

    [Fact]
    public async Task Proof_refused_for_its_nonce_can_be_sent_again_with_one()
    {
        var nonces = Nonces();
        var proof = _context.Proof();
        AssertRejected(await _context.ValidateAsync(proof.Sign(), nonces: nonces), DPoPProofFailure.NonceRequired, DPoPConstants.UseDPoPNonce);

        proof.Claims["nonce"] = nonces.GetCurrentNonce();
        Assert.True((await _context.ValidateAsync(proof.Sign(), nonces: nonces)).IsValid);
    }

    private async Task AssertClaimRejected(string claim, object value, DPoPProofFailure failure, string? accessToken = null)
    {
        var proof = _context.Proof();
        proof.Claims[claim] = value;
        AssertRejected(await _context.ValidateAsync(proof.Sign(), accessToken: accessToken), failure);
    }

    private async Task AssertJwkMemberRejected(string member, object value, DPoPProofFailure failure)
    {
        var proof = _context.Proof();
        proof.Jwk![member] = value;
        AssertRejected(await _context.ValidateAsync(proof.Sign()), failure);
    }

    internal static string Ath(string token) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    private DPoPNonces Nonces() => new(
        Microsoft.Extensions.Options.Options.Create(new DPoPNonceOptions { HmacKey = RandomNumberGenerator.GetBytes(32) }), _context.Time);
}
