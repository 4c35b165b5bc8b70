using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// Redirect URIs match exactly, as strings (RFC 9700 §4.1.3, OIDC Core §3.1.2.1): every variant of the registered
/// <c>https://app.example/signin-oidc</c> is refused on the error page, never redirected to; only a registered
/// loopback IP URI may change its port (RFC 8252 §7.3).
/// </summary>
public sealed class RedirectUriTests : TokenServerTest, IDisposable
{
    private BrowserSession? _browser;

    private BrowserSession Browser => _browser ??= new BrowserSession(Server);

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root);

    public void Dispose() => _browser?.Dispose();

    [Theory]
    [InlineData("https://app.example/signin-oidc/")]
    [InlineData("https://app.example/signin-oidc?x=1")]
    [InlineData("https://app.example/signin-oidc?")]
    [InlineData("https://APP.example/signin-oidc")]
    [InlineData("https://app.example/SIGNIN-OIDC")]
    [InlineData("HTTPS://app.example/signin-oidc")]
    [InlineData("https://evil@app.example/signin-oidc")]
    [InlineData("https://app.example@evil.example/signin-oidc")]
    [InlineData("https://app.example/other")]
    [InlineData("https://app.example/signin-oidc/../signin-oidc")]
    [InlineData("https://app.example/signin-oidc#x")]
    [InlineData("https://app.example/signin%2Doidc")]
    [InlineData("https://app.example/%73ignin-oidc")]
    [InlineData("https://app%2Eexample/signin-oidc")]
    [InlineData("https://app.example/signin-oidc%23x")]
    [InlineData("http://app.example/signin-oidc")]
    [InlineData("https://app.example:443/signin-oidc")]
    [InlineData("https://app.example:8443/signin-oidc")]
    [InlineData("https://app.example./signin-oidc")]
    [InlineData(" https://app.example/signin-oidc")]
    [InlineData("https://app.example/signin-oidc ")]
    [InlineData("https://app.example/signin-oidc\u0000")]
    [InlineData("//app.example/signin-oidc")]
    [InlineData("/signin-oidc")]
    public async Task Variant_of_the_registered_uri_is_never_redirected_to(string redirectUri)
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(redirectUri: redirectUri).Url);
        await AuthorizeAssert.ErrorPageAsync(Browser.Http, response, "invalid_request");
    }

    [Fact]
    public async Task Variant_is_refused_even_for_a_signed_in_user()
    {
        await SignInAsync();
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(redirectUri: InteractiveServer.RedirectUri + "/").Url);
        await AuthorizeAssert.ErrorPageAsync(Browser.Http, response, "invalid_request");
    }

    [Fact]
    public async Task Uri_of_another_client_is_refused()
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(redirectUri: "https://spa.example/callback").Url);
        await AuthorizeAssert.ErrorPageAsync(Browser.Http, response, "invalid_request");
    }

    [Theory]
    [InlineData("http://127.0.0.1/callback")]
    [InlineData("http://127.0.0.1:1/callback")]
    [InlineData("http://127.0.0.1:8080/callback")]
    [InlineData("http://127.0.0.1:65535/callback")]
    public async Task Loopback_uri_with_any_port_gets_the_code(string redirectUri)
    {
        await SignInAsync();
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(redirectUri: redirectUri).Url);
        var location = AuthorizeAssert.RawLocation(response);
        Assert.StartsWith(redirectUri + "?code=", location, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1/other")]
    [InlineData("http://127.0.0.1:8080/callback/")]
    [InlineData("http://127.0.0.1:8080/callback?x=1")]
    [InlineData("http://localhost/callback")]
    [InlineData("http://localhost:8080/callback")]
    [InlineData("http://127.0.0.1.evil.example/callback")]
    [InlineData("http://127.0.0.1.evil.example:8080/callback")]
    [InlineData("http://127.0.0.1@evil.example/callback")]
    [InlineData("http://127.0.0.1:8080@evil.example/callback")]
    [InlineData("http://127.0.0.1:0/callback")]
    [InlineData("http://127.0.0.1:65536/callback")]
    [InlineData("http://127.0.0.1:/callback")]
    [InlineData("http://127.0.0.1:+80/callback")]
    [InlineData("http://127.0.0.2/callback")]
    [InlineData("http://[::1]/callback")]
    [InlineData("https://127.0.0.1/callback")]
    public async Task Loopback_lookalike_is_refused(string redirectUri)
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(redirectUri: redirectUri).Url);
        await AuthorizeAssert.ErrorPageAsync(Browser.Http, response, "invalid_request");
    }

    private async Task SignInAsync()
    {
        var login = await Browser.NavigateAsync(AuthorizeQuery.Valid().Url);
        Assert.Equal("login", login.Page);
        var back = await Browser.SignInAsync(login);
        Assert.NotNull(back.ExternalLocation);
    }
}
