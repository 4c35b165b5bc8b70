using Castellan.Interaction;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// The return URL the login and consent pages carry cannot make them open redirectors: the engine accepts only an
/// authorize-callback URL of this server with an untampered ticket. And the consent page cannot grant more than the
/// client asked for.
/// </summary>
public sealed class ReturnUrlTests : TokenServerTest, IDisposable
{
    private BrowserSession? _browser;

    private BrowserSession Browser => _browser ??= new BrowserSession(Server);

    private ICastellanInteraction Interaction => Server.Services.GetRequiredService<ICastellanInteraction>();

    // The consent client may have api2, but the requests below never ask for it.
    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, configureClients: client =>
    {
        if (client.ClientId == InteractiveServer.ConsentClientId)
        {
            client.AllowedScopes.Add("api2");
        }
    });

    public void Dispose() => _browser?.Dispose();

    [Fact]
    public async Task Return_url_the_engine_issued_is_valid()
    {
        var returnUrl = await StartAuthorizationAsync();
        Assert.StartsWith("/connect/authorize/callback?ticket=", returnUrl, StringComparison.Ordinal);
        Assert.True(Interaction.IsValidReturnUrl(returnUrl));
        Assert.NotNull(await Interaction.GetAuthorizationContextAsync(returnUrl, CancellationToken.None));
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("//evil.example/connect/authorize/callback?ticket=x")]
    [InlineData("/\\evil.example")]
    [InlineData("/\\evil.example/connect/authorize/callback?ticket=x")]
    [InlineData("\\\\evil.example/connect/authorize/callback?ticket=x")]
    [InlineData("https://evil.example/connect/authorize/callback?ticket=x")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("/connect/authorize/callback?ticket=tampered")]
    [InlineData("/connect/authorize/callback")]
    [InlineData("/account/login")]
    [InlineData("")]
    [InlineData(null)]
    public void Foreign_or_forged_return_url_is_refused(string? returnUrl)
    {
        Assert.False(Interaction.IsValidReturnUrl(returnUrl));
    }

    [Theory]
    [InlineData("https://evil.example{0}")]
    [InlineData("//evil.example{0}")]
    [InlineData("/\\evil.example{0}")]
    [InlineData("{0}&x=1")]
    [InlineData("{0}&ReturnUrl=https://evil.example")]
    [InlineData("{0}#https://evil.example")]
    [InlineData(" {0}")]
    [InlineData("\t{0}")]
    [InlineData("/{0}")]
    [InlineData("{0}/../../evil")]
    [InlineData("{0}%")]
    [InlineData("{0}%20")]
    [InlineData("{0}%0A")]
    [InlineData("{0}.")]
    public async Task Real_return_url_altered_in_any_way_is_refused(string format)
    {
        var returnUrl = await StartAuthorizationAsync();
        var altered = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, returnUrl);
        Assert.False(Interaction.IsValidReturnUrl(altered), altered);
        Assert.Null(await Interaction.GetAuthorizationContextAsync(altered, CancellationToken.None));
    }

    [Fact]
    public async Task Real_return_url_with_a_tampered_ticket_is_refused()
    {
        var returnUrl = await StartAuthorizationAsync();
        var last = returnUrl[^1];
        var tampered = returnUrl[..^1] + (last == 'A' ? 'B' : 'A');
        Assert.False(Interaction.IsValidReturnUrl(tampered));
        Assert.Throws<ArgumentException>(() => Interaction.DenyAuthorization(tampered));
    }

    [Fact]
    public async Task Ticket_of_an_error_id_is_not_a_return_url()
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid("unknown-client").Url);
        var errorId = QueryHelpers.ParseQuery(new Uri("http://x" + AuthorizeAssert.RawLocation(response)).Query)["errorId"].ToString();
        Assert.False(Interaction.IsValidReturnUrl("/connect/authorize/callback?ticket=" + errorId));
    }

    [Fact]
    public async Task Login_page_does_not_redirect_to_a_foreign_return_url_after_sign_in()
    {
        var result = await Browser.PostFormAsync("account/login",
            [new("username", InteractiveServer.Username), new("password", InteractiveServer.Password), new("ReturnUrl", "//evil.example/x")]);
        Assert.Null(result.ExternalLocation);
        Assert.Equal(Server.BaseAddress + "/", result.Response.RequestMessage!.RequestUri!.ToString());
    }

    [Fact]
    public async Task Consent_cannot_grant_a_scope_the_client_did_not_request()
    {
        var request = new AuthorizeRequestBuilder(Server);
        var login = await Browser.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid api1"));
        var consent = await Browser.SignInAsync(login);
        Assert.Equal("consent", consent.Page);
        Assert.DoesNotContain("api2", consent.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var back = await Browser.ConsentAsync(consent, allow: true, ["openid", "api1", "api2", "offline_access"]);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, back.ResponseParameters["code"], request, InteractiveServer.ConsentClientId);
        Assert.False(tokens.IsError, tokens.Error);

        var scopes = tokens.Scope!.Split(' ');
        Assert.Contains("api1", scopes);
        Assert.DoesNotContain("api2", scopes);
        Assert.DoesNotContain("offline_access", scopes);
        Assert.Null(tokens.RefreshToken);
        var access = new JsonWebToken(tokens.AccessToken);
        Assert.DoesNotContain("api2", access.Audiences);
    }

    [Fact]
    public async Task Consent_grants_no_more_than_the_user_kept()
    {
        var request = new AuthorizeRequestBuilder(Server);
        var login = await Browser.NavigateAsync(request.Url(InteractiveServer.ConsentClientId, "openid profile api1"));
        var consent = await Browser.SignInAsync(login);

        var back = await Browser.ConsentAsync(consent, allow: true, ["openid", "profile"]);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, back.ResponseParameters["code"], request, InteractiveServer.ConsentClientId);
        Assert.False(tokens.IsError, tokens.Error);
        Assert.DoesNotContain("api1", tokens.Scope!.Split(' '));
    }

    /// <summary>Starts an authorization of the web client and returns the ReturnUrl the login page was given.</summary>
    private async Task<string> StartAuthorizationAsync()
    {
        var login = await Browser.NavigateAsync(new AuthorizeRequestBuilder(Server).Url());
        Assert.Equal("login", login.Page);
        return QueryHelpers.ParseQuery(login.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
    }
}
