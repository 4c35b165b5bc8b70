using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>The code flow end to end with Duende.IdentityModel: authorize, sign in, redeem with PKCE, id_token, userinfo.</summary>
public sealed class AuthorizationCodeFlowTests : TokenServerTest
{
    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root);

    internal static async Task<(string Code, AuthorizeRequestBuilder Request)> SignInAndGetCodeAsync(BrowserSession browser, string clientId = InteractiveServer.WebClientId,
        string scope = "openid profile email api1 offline_access", string redirectUri = InteractiveServer.RedirectUri, string? responseMode = null)
    {
        var request = new AuthorizeRequestBuilder(browser.Server);
        var login = await browser.NavigateAsync(request.Url(clientId, scope, redirectUri, responseMode));
        Assert.Equal("login", login.Page);
        var back = await browser.SignInAsync(login);
        var parameters = back.ResponseParameters;
        Assert.Equal(request.State, parameters["state"]);
        return (parameters["code"], request);
    }

    internal static Task<TokenResponse> RedeemAsync(HttpClient http, string code, AuthorizeRequestBuilder request, string clientId = InteractiveServer.WebClientId,
        string? secret = InteractiveServer.WebSecret, string redirectUri = InteractiveServer.RedirectUri, string? dpopProof = null)
        => http.RequestAuthorizationCodeTokenAsync(new AuthorizationCodeTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = secret,
            Code = code,
            RedirectUri = redirectUri,
            CodeVerifier = request.Verifier,
            DPoPProofToken = dpopProof,
        });

    [Fact]
    public async Task Code_flow_with_pkce_issues_access_id_and_refresh_tokens()
    {
        using var browser = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);

        var login = await browser.NavigateAsync(request.Url());
        Assert.Equal("login", login.Page);
        Assert.True(login.Json.GetProperty("valid").GetBoolean());

        var back = await browser.SignInAsync(login);
        Assert.StartsWith(InteractiveServer.RedirectUri + "?", back.ExternalLocation!.ToString(), StringComparison.Ordinal);
        var parameters = back.ResponseParameters;
        Assert.Equal(request.State, parameters["state"]);
        // RFC 9207 §2: iss in every authorization response.
        Assert.Equal(Server.BaseAddress, parameters["iss"]);
        Assert.Equal(HttpStatusCode.Found, back.Response.StatusCode);
        Assert.Equal("no-store", back.Response.Headers.CacheControl?.ToString());

        var tokens = await RedeemAsync(Http, parameters["code"], request);
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.NotNull(tokens.RefreshToken);
        Assert.Contains("openid", tokens.Scope!.Split(' '));

        var keys = new Microsoft.IdentityModel.Tokens.JsonWebKeySet(await Http.GetStringAsync("/.well-known/openid-configuration/jwks"));
        var idToken = await new JsonWebTokenHandler().ValidateTokenAsync(tokens.IdentityToken, new TokenValidationParameters
        {
            ValidIssuer = Server.BaseAddress,
            ValidAudience = InteractiveServer.WebClientId,
            IssuerSigningKeys = keys.GetSigningKeys(),
        });
        Assert.True(idToken.IsValid, idToken.Exception?.Message);
        var jwt = (JsonWebToken)idToken.SecurityToken;
        Assert.Equal("JWT", jwt.Typ);
        Assert.Equal(InteractiveServer.SubjectId, jwt.Subject);
        Assert.Equal(request.Nonce, jwt.GetClaim("nonce").Value);
        Assert.False(string.IsNullOrEmpty(jwt.GetClaim("sid").Value));
        Assert.True(jwt.TryGetPayloadValue<long>("auth_time", out _));
        Assert.Equal("pwd", jwt.GetPayloadValue<string[]>("amr").Single());
        Assert.Equal(Castellan.Tokens.IdentityTokenCreator.LeftHalfHash(tokens.AccessToken!, "RS256"), jwt.GetClaim("at_hash").Value);
        // Profile claims go to userinfo, not the id_token (OIDC Core §5.4), unless the client asks otherwise.
        Assert.False(jwt.TryGetClaim("email", out _));

        var access = new JsonWebToken(tokens.AccessToken);
        Assert.Equal("at+jwt", access.Typ);
        Assert.Equal(InteractiveServer.SubjectId, access.Subject);
        Assert.Equal(jwt.GetClaim("sid").Value, access.GetClaim("sid").Value);
        Assert.Equal("api1", access.Audiences.Single());

        var userInfo = await Http.GetUserInfoAsync(new UserInfoRequest { Address = "connect/userinfo", Token = tokens.AccessToken });
        Assert.False(userInfo.IsError, userInfo.Error);
        var json = userInfo.Json!.Value;
        Assert.Equal(InteractiveServer.SubjectId, json.GetProperty("sub").GetString());
        Assert.Equal("Alice Smith", json.GetProperty("name").GetString());
        Assert.Equal("alice@example.com", json.GetProperty("email").GetString());
        // Typed claims keep their JSON type.
        Assert.Equal(JsonValueKind.True, json.GetProperty("email_verified").ValueKind);
        // Not granted (no address scope requested), and not an identity claim of any granted scope.
        Assert.False(json.TryGetProperty("address", out _));
        Assert.False(json.TryGetProperty("role", out _));
    }

    [Fact]
    public async Task Second_authorization_uses_the_session_without_signing_in_again()
    {
        using var browser = new BrowserSession(Server);
        await SignInAndGetCodeAsync(browser);

        var request = new AuthorizeRequestBuilder(Server);
        var again = await browser.NavigateAsync(request.Url(scope: "openid address"));
        Assert.NotNull(again.ExternalLocation);
        var tokens = await RedeemAsync(Http, again.ResponseParameters["code"], request);
        Assert.False(tokens.IsError, tokens.Error);

        var userInfo = await Http.GetUserInfoAsync(new UserInfoRequest { Address = "connect/userinfo", Token = tokens.AccessToken });
        var address = userInfo.Json!.Value.GetProperty("address");
        Assert.Equal(JsonValueKind.Object, address.ValueKind);
        Assert.Equal("Utrecht", address.GetProperty("locality").GetString());
        Assert.False(userInfo.Json!.Value.TryGetProperty("email", out _));
    }

    [Theory]
    [InlineData("form_post")]
    [InlineData("fragment")]
    [InlineData("query")]
    public async Task Response_modes_deliver_code_state_and_iss(string mode)
    {
        using var browser = new BrowserSession(Server);
        var request = new AuthorizeRequestBuilder(Server);
        var login = await browser.NavigateAsync(request.Url(responseMode: mode));
        var back = await browser.SignInAsync(login);
        Dictionary<string, string> parameters;
        if (mode == "form_post")
        {
            Assert.Equal(HttpStatusCode.OK, back.Response.StatusCode);
            Assert.Null(back.ExternalLocation);
            Assert.Contains($"action=\"{InteractiveServer.RedirectUri}\"", back.Body, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", back.Response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            parameters = System.Text.RegularExpressions.Regex.Matches(back.Body!, "name=\"([^\"]+)\" value=\"([^\"]*)\"")
                .ToDictionary(m => m.Groups[1].Value, m => System.Net.WebUtility.HtmlDecode(m.Groups[2].Value));
        }
        else
        {
            var location = back.ExternalLocation!.ToString();
            Assert.StartsWith(InteractiveServer.RedirectUri + (mode == "fragment" ? "#" : "?"), location, StringComparison.Ordinal);
            parameters = back.ResponseParameters.ToDictionary();
        }

        Assert.Equal(request.State, parameters["state"]);
        Assert.Equal(Server.BaseAddress, parameters["iss"]);
        var tokens = await RedeemAsync(Http, parameters["code"], request);
        Assert.False(tokens.IsError, tokens.Error);
    }

    [Fact]
    public async Task Public_client_redeems_with_pkce_and_no_secret()
    {
        using var browser = new BrowserSession(Server);
        var (code, request) = await SignInAndGetCodeAsync(browser, InteractiveServer.SpaClientId, "openid api1", "https://spa.example/callback");
        var tokens = await RedeemAsync(Http, code, request, InteractiveServer.SpaClientId, null, "https://spa.example/callback");
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.Null(tokens.RefreshToken);
    }

    [Fact]
    public async Task Loopback_redirect_uri_may_use_any_port()
    {
        using var browser = new BrowserSession(Server);
        var (code, request) = await SignInAndGetCodeAsync(browser, redirectUri: "http://127.0.0.1:51234/callback");
        var tokens = await RedeemAsync(Http, code, request, redirectUri: "http://127.0.0.1:51234/callback");
        Assert.False(tokens.IsError, tokens.Error);
    }

    [Fact]
    public async Task Discovery_lists_the_interactive_endpoints_and_capabilities()
    {
        var discovery = await Http.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = Server.BaseAddress,
            Policy = { RequireHttps = false },
        });
        Assert.False(discovery.IsError, discovery.Error);
        Assert.Equal(Server.BaseAddress + "/connect/authorize", discovery.AuthorizeEndpoint);
        Assert.Equal(Server.BaseAddress + "/connect/userinfo", discovery.UserInfoEndpoint);
        Assert.Equal(Server.BaseAddress + "/connect/endsession", discovery.EndSessionEndpoint);
        Assert.Equal(["code"], discovery.ResponseTypesSupported);
        Assert.Equal(["query", "fragment", "form_post"], discovery.ResponseModesSupported);
        Assert.Equal(["S256"], discovery.CodeChallengeMethodsSupported);
        Assert.Contains("authorization_code", discovery.GrantTypesSupported);
        Assert.Contains("refresh_token", discovery.GrantTypesSupported);
        Assert.Contains("offline_access", discovery.ScopesSupported);
        Assert.Contains("email_verified", discovery.ClaimsSupported);
        Assert.Equal(["public"], discovery.SubjectTypesSupported);
        Assert.Equal(["RS256"], discovery.TryGetStringArray("id_token_signing_alg_values_supported"));
        Assert.True(discovery.TryGetBoolean("authorization_response_iss_parameter_supported"));
        Assert.True(discovery.FrontChannelLogoutSupported);
        Assert.True(discovery.BackChannelLogoutSupported);
        Assert.Contains("none", discovery.TryGetStringArray("prompt_values_supported"));
        Assert.DoesNotContain(discovery.Json!.Value.EnumerateObject(), p => p.Value.ToString().Contains("/connect/authorize/callback", StringComparison.Ordinal));
    }
}
