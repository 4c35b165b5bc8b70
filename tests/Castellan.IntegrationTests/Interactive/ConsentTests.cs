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

    [Fact]
    public async Task A_consented_callback_url_opened_in_another_users_session_asks_that_user_again()
    {
        using var alice = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);
        var consent = await alice.SignInAsync(await alice.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid api1")));
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(consent.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();

        // Alice consents, but her browser does not follow the redirect: the consented callback URL leaks.
        using var post = await alice.Http.PostAsync("consent", new FormUrlEncodedContent(
            [new("ReturnUrl", returnUrl), new("decision", "allow"), new("scopes", "openid"), new("scopes", "api1")]));
        var consented = post.Headers.Location!.ToString();

        using var bob = new BrowserSession(Server);
        await bob.SignInAsync(await bob.NavigateAsync(new AuthorizeRequestBuilder(Server).Url()), "bob", "bob-password");
        var result = await bob.NavigateAsync(consented);
        Assert.Equal("consent", result.Page);
    }

    [Fact]
    public async Task Prompt_consent_asks_even_a_client_that_does_not_require_consent()
    {
        using var browser = new BrowserSession(Server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var result = await browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url(prompt: "consent"));
        Assert.Equal("consent", result.Page);
    }

    [Fact]
    public async Task Without_a_scope_parameter_the_consent_page_lists_the_default_scopes()
    {
        using var browser = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);
        var url = request.Url(InteractiveServer.ConsentClientId, scope: null);
        var consent = await browser.SignInAsync(await browser.NavigateAsync(url));
        Assert.Equal("consent", consent.Page);
        Assert.Equal(["api1"], consent.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));
    }
}
