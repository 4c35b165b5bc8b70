using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>OIDC Core §3.1.2.1: prompt, max_age, id_token_hint and login_hint against the SSO session.</summary>
public sealed class SessionAndPromptTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private TestApp _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await InteractiveServer.StartAsync(_root, time: _time);
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Prompt_none_without_a_session_returns_login_required_to_the_client()
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var result = await browser.NavigateAsync(request.Url(prompt: "none"));
        var parameters = result.ResponseParameters;
        Assert.Equal("login_required", parameters["error"]);
        Assert.Equal(request.State, parameters["state"]);
        Assert.Equal(_server.BaseAddress, parameters["iss"]);
    }

    [Fact]
    public async Task Prompt_none_with_a_session_returns_a_code_silently()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var request = new AuthorizeRequestBuilder(_server);
        var silent = await browser.NavigateAsync(request.Url(prompt: "none"));
        Assert.True(silent.ResponseParameters.ContainsKey("code"));
    }

    [Fact]
    public async Task Prompt_none_when_consent_is_needed_returns_consent_required()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var request = new AuthorizeRequestBuilder(_server);
        var result = await browser.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid api1", prompt: "none"));
        Assert.Equal("consent_required", result.ResponseParameters["error"]);
    }

    [Fact]
    public async Task Prompt_login_forces_a_new_sign_in_once()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var request = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(request.Url(prompt: "login"));
        Assert.Equal("login", login.Page);
        Assert.True(login.Json.GetProperty("reauthenticate").GetBoolean());

        // Reaching the callback again without signing in again does not pass.
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(login.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        var skipped = await browser.NavigateAsync(returnUrl);
        Assert.Equal("login", skipped.Page);

        // After a new sign-in the same request completes, without looping back to the login page.
        _time.Advance(TimeSpan.FromSeconds(1));
        var back = await browser.SignInAsync(login);
        Assert.True(back.ResponseParameters.ContainsKey("code"));
    }

    [Fact]
    public async Task Max_age_exceeded_forces_a_new_sign_in_and_auth_time_is_the_new_one()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        _time.Advance(TimeSpan.FromMinutes(10));

        var request = new AuthorizeRequestBuilder(_server);
        var fresh = await browser.NavigateAsync(request.Url(maxAge: 3600));
        Assert.NotNull(fresh.ExternalLocation);

        var strict = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(strict.Url(maxAge: 60));
        Assert.Equal("login", login.Page);
        var back = await browser.SignInAsync(login);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, back.ResponseParameters["code"], strict);
        var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.IdentityToken);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), idToken.GetPayloadValue<long>("auth_time"));
    }

    [Fact]
    public async Task Max_age_zero_completes_after_one_sign_in()
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(request.Url(maxAge: 0));
        _time.Advance(TimeSpan.FromSeconds(2));
        var back = await browser.SignInAsync(login);
        Assert.True(back.ResponseParameters.ContainsKey("code"));
    }

    [Fact]
    public async Task Id_token_hint_for_another_user_forces_sign_in_and_with_prompt_none_is_login_required()
    {
        using var bob = new BrowserSession(_server);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(bob);
        var bobs = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request);

        // Bob's session is there, but the hint names alice... here: alice signs in, then a hint for bob comes.
        using var alice = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(alice);
        var bobHint = await SignInAsBobAsync();
        var silent = await alice.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "none", idTokenHint: bobHint));
        Assert.Equal("login_required", silent.ResponseParameters["error"]);
        var interactive = await alice.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(idTokenHint: bobHint));
        Assert.Equal("login", interactive.Page);

        // The hint of the signed-in user passes silently.
        var own = await bob.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "none", idTokenHint: bobs.IdentityToken));
        Assert.True(own.ResponseParameters.ContainsKey("code"));
    }

    private async Task<string> SignInAsBobAsync()
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(request.Url());
        var back = await browser.SignInAsync(login, "bob", "bob-password");
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, back.ResponseParameters["code"], request);
        return tokens.IdentityToken!;
    }

    [Fact]
    public async Task Login_hint_reaches_the_login_page()
    {
        using var browser = new BrowserSession(_server);
        var login = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(loginHint: "alice@example.com"));
        Assert.Equal("alice@example.com", login.Json.GetProperty("loginHint").GetString());
    }

    [Fact]
    public async Task Cancel_at_login_returns_access_denied_to_the_client()
    {
        using var browser = new BrowserSession(_server);
        var request = new AuthorizeRequestBuilder(_server);
        var login = await browser.NavigateAsync(request.Url());
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(login.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        var back = await browser.PostFormAsync("account/login", [new("ReturnUrl", returnUrl), new("button", "cancel")]);
        Assert.Equal("access_denied", back.ResponseParameters["error"]);
        Assert.Equal(request.State, back.ResponseParameters["state"]);
    }

    [Fact]
    public async Task Interaction_link_expires()
    {
        using var browser = new BrowserSession(_server);
        var login = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url());
        _time.Advance(TimeSpan.FromMinutes(16));
        var back = await browser.SignInAsync(login);
        // Signed in, but the pending request is gone: the login page goes home instead of to the stale request.
        Assert.Null(back.ExternalLocation);
    }

    [Fact]
    public async Task Session_expires_with_the_cookie_lifetime()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        _time.Advance(TimeSpan.FromHours(11));
        var result = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "none"));
        Assert.Equal("login_required", result.ResponseParameters["error"]);
    }

    [Fact]
    public async Task Client_sso_lifetime_forces_a_new_sign_in_for_that_client_only()
    {
        using var root = new TempDirectory();
        await using var server = await InteractiveServer.StartAsync(root, c =>
        {
            if (c.ClientId == InteractiveServer.SpaClientId)
            {
                c.UserSsoLifetime = 60;
            }
        }, time: _time);
        using var browser = new BrowserSession(server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        _time.Advance(TimeSpan.FromMinutes(5));

        var web = await browser.NavigateAsync(new AuthorizeRequestBuilder(server).Url(prompt: "none"));
        Assert.True(web.ResponseParameters.ContainsKey("code"));
        var spa = await browser.NavigateAsync(new AuthorizeRequestBuilder(server).Url(InteractiveServer.SpaClientId, "openid api1", "https://spa.example/callback", prompt: "none"));
        Assert.Equal("login_required", spa.ResponseParameters["error"]);
    }

    [Fact]
    public async Task Prompt_select_account_shows_the_login_page_even_with_a_session()
    {
        using var browser = new BrowserSession(_server);
        await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        var login = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url(prompt: "select_account"));
        Assert.Equal("login", login.Page);
        // Another account may be chosen: bob signs in, and the code is his.
        var request = new AuthorizeRequestBuilder(_server);
        var bobLogin = await browser.NavigateAsync(request.Url(prompt: "select_account"));
        var back = await browser.SignInAsync(bobLogin, "bob", "bob-password");
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(_http, back.ResponseParameters["code"], request);
        Assert.Equal("bob-2", new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.AccessToken).Subject);
    }

    [Fact]
    public async Task Failed_logins_are_throttled_per_address_across_accounts_and_lift_after_the_window()
    {
        using var browser = new BrowserSession(_server);
        var login = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url());
        for (var i = 0; i < 20; i++)
        {
            // Twenty different (unknown) accounts from one address: no account reaches its own limit.
            var failed = await browser.SignInAsync(login, "guess" + i, "wrong");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, failed.Response.StatusCode);
        }

        var throttled = await browser.SignInAsync(login);
        Assert.Equal((System.Net.HttpStatusCode)429, throttled.Response.StatusCode);

        _time.Advance(TimeSpan.FromMinutes(6));
        var fresh = await browser.NavigateAsync(new AuthorizeRequestBuilder(_server).Url());
        var back = await browser.SignInAsync(fresh);
        Assert.True(back.ResponseParameters.ContainsKey("code"));
    }
}
