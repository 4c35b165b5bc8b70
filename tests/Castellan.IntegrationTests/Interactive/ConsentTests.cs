using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>OIDC Core §3.1.2.4: consent per client and scope, remembered when asked.</summary>
public sealed class ConsentTests : TokenServerTest
{
    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root);

    [Fact]
    public async Task Consent_page_lists_requested_scopes_and_allow_issues_a_code_with_the_granted_ones()
    {
        using var browser = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);
        var login = await browser.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid profile email api1"));
        var consent = await browser.SignInAsync(login);
        Assert.Equal("consent", consent.Page);
        Assert.Equal(["openid", "profile", "email", "api1"], consent.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));

        // The user keeps profile and api1 and drops email; openid is required and stays.
        var back = await browser.ConsentAsync(consent, allow: true, ["profile", "api1"]);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, back.ResponseParameters["code"], request, InteractiveServer.ConsentClientId);
        Assert.False(tokens.IsError, tokens.Error);
        Assert.Equal(["openid", "profile", "api1"], tokens.Scope!.Split(' '));
    }

    [Fact]
    public async Task Deny_returns_access_denied()
    {
        using var browser = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);
        var consent = await browser.SignInAsync(await browser.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid api1")));
        var back = await browser.ConsentAsync(consent, allow: false, []);
        Assert.Equal("access_denied", back.ResponseParameters["error"]);
        Assert.Equal(request.State, back.ResponseParameters["state"]);
    }

    [Fact]
    public async Task Remembered_consent_skips_the_page_until_more_is_asked_or_prompt_consent()
    {
        using var browser = new BrowserSession(Server);
        var consent = await browser.SignInAsync(await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1")));
        var first = await browser.ConsentAsync(consent, allow: true, ["openid", "api1"], remember: true);
        Assert.True(first.ResponseParameters.ContainsKey("code"));

        var again = await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1"));
        Assert.True(again.ResponseParameters.ContainsKey("code"));

        var more = await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1 email"));
        Assert.Equal("consent", more.Page);

        var forced = await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1", prompt: "consent"));
        Assert.Equal("consent", forced.Page);
    }

    [Fact]
    public async Task Consent_not_remembered_asks_every_time()
    {
        using var browser = new BrowserSession(Server);
        var consent = await browser.SignInAsync(await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1")));
        await browser.ConsentAsync(consent, allow: true, ["openid", "api1"], remember: false);
        var again = await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(InteractiveServer.ConsentClientId, "openid api1"));
        Assert.Equal("consent", again.Page);
    }
}
