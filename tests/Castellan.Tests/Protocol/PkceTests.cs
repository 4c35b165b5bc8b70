using Castellan.Pkce;

namespace Castellan.Tests.Protocol;

/// <summary>RFC 7636 and RFC 9700 §4.8, checked at the authorize request (challenge) and at redemption (verifier).</summary>
public sealed class PkceTests
{
    // RFC 7636 Appendix B.
    private const string Verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    [Fact]
    public void S256_challenge_of_the_rfc_example()
        => Assert.Equal(Challenge, PkceValidator.S256Challenge(Verifier));

    [Fact]
    public void S256_challenge_is_accepted_and_its_verifier_redeems()
    {
        Assert.Null(PkceValidator.ValidateChallenge(Challenge, "S256", requirePkce: true, allowPlainText: false, out var method));
        Assert.Equal("S256", method);
        Assert.Null(PkceValidator.VerifyRedemption(Challenge, method, Verifier));
    }

    [Theory]
    [InlineData(null, null, "code_challenge is required.")]
    [InlineData("", "S256", "code_challenge_method was sent without code_challenge.")]
    [InlineData(Challenge, null, "code_challenge_method must be S256.")]
    [InlineData(Challenge, "plain", "code_challenge_method must be S256.")]
    [InlineData(Challenge, "s256", "code_challenge_method is not supported; use S256.")]
    [InlineData(Challenge, "S512", "code_challenge_method is not supported; use S256.")]
    [InlineData("short", "S256", "code_challenge must be")]
    [InlineData(Challenge + "A", "S256", "An S256 code_challenge")]
    [InlineData("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", "S256", "code_challenge must be")]
    [InlineData("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", "S256", "code_challenge must be")]
    public void Missing_malformed_or_downgraded_challenges_are_invalid_request(string? challenge, string? method, string description)
    {
        var error = PkceValidator.ValidateChallenge(challenge, method, requirePkce: true, allowPlainText: false, out var stored);
        Assert.NotNull(error);
        Assert.Equal("invalid_request", error.Error);
        Assert.StartsWith(description, error.Description, StringComparison.Ordinal);
        Assert.Null(stored);
    }

    [Fact]
    public void Plain_only_for_a_client_that_allows_it_and_then_also_when_the_method_is_omitted()
    {
        var plain = new string('a', 50);
        Assert.Null(PkceValidator.ValidateChallenge(plain, null, requirePkce: true, allowPlainText: true, out var method));
        Assert.Equal("plain", method);
        Assert.Null(PkceValidator.VerifyRedemption(plain, method, plain));
        Assert.Equal("invalid_grant", PkceValidator.VerifyRedemption(plain, method, new string('b', 50))?.Error);
    }

    [Fact]
    public void Without_require_pkce_a_request_without_challenge_passes()
        => Assert.Null(PkceValidator.ValidateChallenge(null, null, requirePkce: false, allowPlainText: false, out _));

    [Theory]
    [InlineData(null, "invalid_grant")]
    [InlineData("", "invalid_grant")]
    [InlineData("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", "invalid_grant")]
    [InlineData("too-short", "invalid_request")]
    [InlineData("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk+", "invalid_request")]
    [InlineData("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXké", "invalid_request")]
    public void Wrong_missing_or_malformed_verifier_fails(string? verifier, string error)
        => Assert.Equal(error, PkceValidator.VerifyRedemption(Challenge, "S256", verifier)?.Error);

    [Fact]
    public void Verifier_longer_than_128_is_malformed()
        => Assert.Equal("invalid_request", PkceValidator.VerifyRedemption(Challenge, "S256", new string('a', 129))?.Error);

    [Fact]
    public void Verifier_for_a_code_issued_without_challenge_is_refused()
    {
        // RFC 9700 §4.8: PKCE downgrade, a code injected without a challenge redeemed with any verifier.
        Assert.Equal("invalid_grant", PkceValidator.VerifyRedemption(null, null, Verifier)?.Error);
        Assert.Null(PkceValidator.VerifyRedemption(null, null, null));
    }
}
