namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>The oracle's rules for authorize-style answers, on hand-made answers: it must flag what it claims to flag.</summary>
public sealed class FuzzOracleRedirectTests
{
    private const string Registered = FuzzClients.RedirectUri;

    [Theory]
    [InlineData(Registered + "?code=c&state=s&iss=http%3A%2F%2F127.0.0.1")]
    [InlineData(Registered + "#error=login_required&iss=http%3A%2F%2F127.0.0.1")]
    [InlineData("/error?errorId=abc")]
    [InlineData("/account/login?ReturnUrl=%2Fconnect%2Fauthorize%2Fcallback%3Fticket%3Dx")]
    [InlineData("/account/logout?logoutId=abc")]
    public void Redirect_to_an_interaction_page_or_with_a_response_to_a_registered_uri_passes(string location)
    {
        Assert.Empty(Check(Redirect(location)));
    }

    [Theory]
    [InlineData("https://evil.example/?code=c&iss=i")]
    [InlineData(Registered + "/?code=c&iss=i")]
    [InlineData(Registered + ".evil.example?code=c&iss=i")]
    [InlineData(Registered)]
    [InlineData(Registered + "?code=c")]
    [InlineData(Registered + "?state=s&iss=i")]
    [InlineData(Registered + "?error=bad%0Aline&iss=i")]
    [InlineData("//evil.example/error")]
    [InlineData("/\\evil.example/error")]
    [InlineData("/somewhere-else")]
    public void Redirect_elsewhere_or_without_a_proper_response_is_a_violation(string location)
    {
        Assert.Contains(Check(Redirect(location)), v => v.Kind == "redirect");
    }

    [Fact]
    public void Form_post_page_to_an_unregistered_uri_is_a_violation()
    {
        var page = "<form method=\"post\" action=\"https://evil.example/cb\"><input type=\"hidden\" name=\"code\" value=\"c\"><input type=\"hidden\" name=\"iss\" value=\"i\"></form>";
        Assert.Contains(Check(new RawResponse(200, [], page)), v => v.Kind == "form_post");
    }

    [Fact]
    public void Form_post_page_to_the_registered_uri_with_a_response_passes()
    {
        var page = $"<form method=\"post\" action=\"{Registered}\"><input type=\"hidden\" name=\"code\" value=\"c\"><input type=\"hidden\" name=\"iss\" value=\"i\"></form>";
        Assert.Empty(Check(new RawResponse(200, [], page)));
    }

    private static RawResponse Redirect(string location) => new(302, [new("Location", location)], "");

    private static List<Violation> Check(RawResponse response)
    {
        var endpoint = new FuzzEndpoint("Castellan authorize endpoint", "/connect/authorize", new FuzzTarget("Castellan authorize endpoint", []));
        var fuzzCase = new FuzzCase { Number = 0, Endpoint = endpoint, Description = "hand-made", Wire = [], Secrets = [] };
        return FuzzOracle.Check(fuzzCase, new Exchange([response], null, "closed", false));
    }
}
