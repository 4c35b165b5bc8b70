using Castellan.Security;

namespace Castellan.Tests.Security;

public sealed class AuthorizationHeaderTests
{
    [Theory]
    [InlineData("Bearer abc", false, "abc", false)]
    [InlineData("bearer  abc ", false, "abc", false)]
    [InlineData("DPoP abc", true, "abc", true)]
    [InlineData("dpop abc", true, "abc", true)]
    public void Reads_the_token_and_its_scheme(string value, bool acceptDPoP, string token, bool dpop)
    {
        Assert.True(AuthorizationHeader.TryReadAccessToken(value, acceptDPoP, out var read, out var isDPoP));
        Assert.Equal(token, read);
        Assert.Equal(dpop, isDPoP);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("Bearer", true)]
    [InlineData("Bearer    ", true)]
    [InlineData("DPoP ", true)]
    [InlineData("DPoP abc", false)]
    [InlineData("Basic YTpi", true)]
    [InlineData("Bearerabc", true)]
    public void Refuses_a_value_without_an_accepted_scheme_and_a_token(string? value, bool acceptDPoP)
    {
        Assert.False(AuthorizationHeader.TryReadAccessToken(value, acceptDPoP, out var token, out var dpop));
        Assert.Null(token);
        Assert.False(dpop);
    }
}
