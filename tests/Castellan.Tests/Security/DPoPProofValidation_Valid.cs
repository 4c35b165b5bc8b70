using Castellan.Security;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using static Castellan.Tests.Security.DPoPTestContext;

namespace Castellan.Tests.Security;

/// <summary>Proofs as clients build them with JsonWebTokenHandler are accepted, and what normalisation accepts.</summary>
public sealed class DPoPProofValidation_Valid
{
    private readonly DPoPTestContext _context = new();

    public static TheoryData<string> Algorithms => new()
    {
        SecurityAlgorithms.EcdsaSha256,
        SecurityAlgorithms.EcdsaSha384,
        SecurityAlgorithms.EcdsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256,
        SecurityAlgorithms.RsaSha256,
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Proof_signed_by_JsonWebTokenHandler_is_accepted(string algorithm)
    {
        var key = algorithm.StartsWith("ES", StringComparison.Ordinal) ? ProofKey.Ec(algorithm) : ProofKey.SharedRsaWith(algorithm);
        var proof = _context.Proof(key);

        var result = await _context.ValidateAsync(proof.Sign());

        Assert.True(result.IsValid, result.ErrorDescription);
        Assert.Equal(DPoPProofFailure.None, result.Failure);
        Assert.Null(result.Error);
        Assert.Equal(key.Thumbprint, result.Thumbprint);
        Assert.Equal(proof.Claims["jti"], result.JwtId);
        Assert.Equal(Start, result.IssuedAt);
    }

    [Fact]
    public async Task Proof_for_a_resource_with_the_tokens_ath_and_jkt_is_accepted()
    {
        var key = ProofKey.Ec();
        var proof = _context.Proof(key);
        proof.Claims["htm"] = "GET";
        proof.Claims["htu"] = "https://api.example.com/orders";
        proof.Claims["ath"] = DPoPProofValidation_Invalid.Ath("eyJ.access.token");

        var result = await _context.ValidateAsync(proof.Sign(), method: "GET", uri: new Uri("https://api.example.com/orders?page=2"),
            accessToken: "eyJ.access.token", expectedThumbprint: key.Thumbprint);

        Assert.True(result.IsValid, result.ErrorDescription);
    }

    [Fact]
    public async Task Same_key_proves_many_requests_with_new_jtis()
    {
        var key = ProofKey.Ec();
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await _context.ValidateAsync(_context.Proof(key).Sign())).IsValid);
        }
    }

    [Fact]
    public async Task Same_jti_from_two_keys_is_two_proofs()
    {
        var first = _context.Proof();
        var second = _context.Proof();
        second.Claims["jti"] = first.Claims["jti"];

        Assert.True((await _context.ValidateAsync(first.Sign())).IsValid);
        Assert.True((await _context.ValidateAsync(second.Sign())).IsValid);
    }

    [Theory]
    // RFC 9449 §4.3 step 9: the query and fragment are ignored, in htu and in the request URI.
    [InlineData("https://login.example.com/connect/token?x=1", "https://login.example.com/connect/token")]
    [InlineData("https://login.example.com/connect/token", "https://login.example.com/connect/token?x=1")]
    [InlineData("https://login.example.com/connect/token?a=1#f", "https://login.example.com/connect/token?b=2")]
    // RFC 3986 §6.2.2.1 case, §6.2.3 default port and empty path.
    [InlineData("HTTPS://Login.Example.COM/connect/token", "https://login.example.com/connect/token")]
    [InlineData("https://login.example.com:443/connect/token", "https://login.example.com/connect/token")]
    [InlineData("https://login.example.com/connect/token", "https://login.example.com:443/connect/token")]
    [InlineData("http://login.example.com:80/connect/token", "http://login.example.com/connect/token")]
    [InlineData("https://login.example.com", "https://login.example.com/")]
    // §6.2.2.1 percent-encoding hex case, §6.2.2.2 unreserved characters decoded, §6.2.2.3 dot segments.
    [InlineData("https://login.example.com/a%2fb", "https://login.example.com/a%2Fb")]
    [InlineData("https://login.example.com/%7Euser/%41", "https://login.example.com/~user/A")]
    [InlineData("https://login.example.com/connect/./x/../token", "https://login.example.com/connect/token")]
    public async Task Htu_matches_after_normalisation(string htu, string requestUri)
    {
        var proof = _context.Proof();
        proof.Claims["htu"] = htu;
        var result = await _context.ValidateAsync(proof.Sign(), uri: new Uri(requestUri));
        Assert.True(result.IsValid, result.ErrorDescription);
    }

    [Fact]
    public async Task Iat_at_the_edges_of_the_window_is_accepted()
    {
        foreach (var offset in new[] { -60, 60 })
        {
            var proof = _context.Proof();
            proof.Claims["iat"] = _context.Time.GetUtcNow().AddSeconds(offset).ToUnixTimeSeconds();
            var result = await _context.ValidateAsync(proof.Sign());
            Assert.True(result.IsValid, $"{offset}: {result.ErrorDescription}");
        }
    }

    [Fact]
    public async Task Fractional_iat_is_accepted()
    {
        var proof = _context.Proof();
        proof.Claims["iat"] = _context.Time.GetUtcNow().ToUnixTimeSeconds() + 0.5;
        Assert.True((await _context.ValidateAsync(proof.Sign())).IsValid);
    }

    [Fact]
    public async Task Ath_is_not_required_without_an_access_token()
    {
        var proof = _context.Proof();
        proof.Claims["ath"] = "ignored-at-the-token-endpoint";
        Assert.True((await _context.ValidateAsync(proof.Sign())).IsValid);
    }

    [Fact]
    public async Task Valid_nonce_is_accepted()
    {
        var nonces = new DPoPNonces(Options.Create(new DPoPNonceOptions { HmacKey = new byte[32] }), _context.Time);
        var proof = _context.Proof();
        proof.Claims["nonce"] = nonces.GetCurrentNonce();
        _context.Time.Advance(TimeSpan.FromMinutes(3));
        proof.Claims["iat"] = _context.Time.GetUtcNow().ToUnixTimeSeconds();

        Assert.True((await _context.ValidateAsync(proof.Sign(), nonces: nonces)).IsValid);
    }

    [Fact]
    public async Task Key_cache_off_still_verifies_every_proof()
    {
        var context = new DPoPTestContext(configure: o => o.KeyCacheSize = 0);
        var key = ProofKey.Ec();
        Assert.True((await context.ValidateAsync(context.Proof(key).Sign())).IsValid);
        Assert.True((await context.ValidateAsync(context.Proof(key).Sign())).IsValid);
    }

    [Fact]
    public async Task Replay_to_a_second_node_is_rejected_through_the_distributed_cache()
    {
        var shared = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        var nodeA = new DPoPTestContext(time => new DistributedReplayCache(shared, Options.Create(new ReplayCacheOptions()), time));
        var nodeB = new DPoPTestContext(time => new DistributedReplayCache(shared, Options.Create(new ReplayCacheOptions()), time));
        var proof = nodeA.Proof().Sign();

        Assert.True((await nodeA.ValidateAsync(proof)).IsValid);
        AssertRejected(await nodeB.ValidateAsync(proof), DPoPProofFailure.Replayed);
        AssertRejected(await nodeA.ValidateAsync(proof), DPoPProofFailure.Replayed);
    }

    [Fact]
    public void Supported_algorithms_follow_the_options()
    {
        Assert.Equal(["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256"], _context.Validator.SupportedAlgorithms);
        var context = new DPoPTestContext(configure: o => o.AllowedAlgorithms = ["PS256", "ES256", "PS256"]);
        Assert.Equal(["PS256", "ES256"], context.Validator.SupportedAlgorithms);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    [InlineData("HS512")]
    [InlineData("EdDSA")]
    [InlineData("RSA-OAEP")]
    public void Options_with_an_algorithm_that_is_not_asymmetric_and_verifiable_fail_at_startup(string algorithm)
    {
        var exception = Assert.Throws<OptionsValidationException>(() => new DPoPTestContext(configure: o => o.AllowedAlgorithms = ["ES256", algorithm]));
        Assert.Contains(algorithm, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_with_no_window_or_no_algorithm_fail_at_startup()
    {
        Assert.Throws<OptionsValidationException>(() => new DPoPTestContext(configure: o => o.AllowedAlgorithms = []));
        Assert.Throws<OptionsValidationException>(() => new DPoPTestContext(configure: o => o.IatWindow = TimeSpan.Zero));
        Assert.Throws<OptionsValidationException>(() => new DPoPTestContext(configure: o => o.ClockSkew = TimeSpan.FromSeconds(-1)));
    }
}
