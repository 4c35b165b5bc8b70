using System.Net;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// /connect/authorize refusing bad requests (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6): before the client and its
/// redirect URI are known good the user sees the error page; after, the error goes back to the redirect URI with
/// state and iss.
/// </summary>
public sealed class AuthorizeRequestValidationTests : TokenServerTest, IDisposable
{
    private const string DisabledClientId = "disabled-web";
    private const string NoCodeFlowClientId = "cc-with-redirect";
    private const string NoOfflineClientId = "no-offline";

    private BrowserSession? _browser;

    private HttpClient Browser => (_browser ??= new BrowserSession(Server)).Http;

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, configure: c => c.AddInMemoryClients(
    [
        new Client
        {
            ClientId = DisabledClientId,
            Enabled = false,
            ClientSecrets = { Secret.FromPlainText(InteractiveServer.WebSecret) },
            AllowedGrantTypes = { GrantTypes.AuthorizationCode },
            RedirectUris = { InteractiveServer.RedirectUri },
            AllowedScopes = { "openid", "api1" },
        },
        new Client
        {
            ClientId = NoCodeFlowClientId,
            ClientSecrets = { Secret.FromPlainText(InteractiveServer.WebSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            RedirectUris = { InteractiveServer.RedirectUri },
            AllowedScopes = { "api1" },
        },
        new Client
        {
            ClientId = NoOfflineClientId,
            ClientSecrets = { Secret.FromPlainText(InteractiveServer.WebSecret) },
            AllowedGrantTypes = { GrantTypes.AuthorizationCode },
            RedirectUris = { InteractiveServer.RedirectUri },
            AllowedScopes = { "openid", "api1" },
        },
    ]));

    public void Dispose() => _browser?.Dispose();

    private Task<HttpResponseMessage> GetAsync(AuthorizeQuery query) => Browser.GetAsync(query.Url);

    [Fact]
    public async Task Valid_request_without_a_session_goes_to_the_login_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid());
        AuthorizeAssert.SentToLogin(response);
    }

    [Theory]
    [InlineData("unknown-client")]
    [InlineData(DisabledClientId)]
    public async Task Unknown_or_disabled_client_is_shown_the_error_page_never_redirected(string clientId)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid(clientId));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "unauthorized_client");
    }

    [Fact]
    public async Task Missing_client_id_is_shown_the_error_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Without("client_id"));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Missing_redirect_uri_is_shown_the_error_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Without("redirect_uri"));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Unregistered_redirect_uri_is_shown_the_error_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid(redirectUri: "https://evil.example/signin-oidc"));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Duplicated_client_id_is_shown_the_error_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Plus("client_id", InteractiveServer.WebClientId));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Duplicated_redirect_uri_is_shown_the_error_page()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Plus("redirect_uri", InteractiveServer.RedirectUri));
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Missing_response_type_is_redirected_as_invalid_request()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Without("response_type"));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData("token")]
    [InlineData("id_token")]
    [InlineData("code id_token")]
    [InlineData("code token")]
    [InlineData("id_token token")]
    [InlineData("none")]
    public async Task Implicit_and_hybrid_response_types_are_unsupported(string responseType)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("response_type", responseType));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "unsupported_response_type");
    }

    [Theory]
    [InlineData("web_message")]
    [InlineData("query.jwt")]
    [InlineData("QUERY")]
    public async Task Unknown_response_mode_is_reported_in_the_query(string mode)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("response_mode", mode));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData("scope", "openid")]
    [InlineData("state", "other-state")]
    [InlineData("response_type", "code")]
    [InlineData("code_challenge", "x")]
    public async Task Repeated_parameter_is_redirected_as_invalid_request(string name, string extra)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().Plus(name, extra));
        // RFC 6749 §3.1: a repeated state is not echoed (which one would be?); the others keep the request's.
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request", state: name == "state" ? null : AuthorizeQuery.State);
    }

    [Theory]
    [InlineData("openid nope")]
    [InlineData("openid api2")]
    [InlineData("openid address")]
    public async Task Unknown_or_not_allowed_scope_is_invalid_scope(string scope)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid(NoOfflineClientId).With("scope", scope));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_scope");
    }

    [Fact]
    public async Task Offline_access_for_a_client_without_it_is_invalid_scope()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid(NoOfflineClientId).With("scope", "openid api1 offline_access"));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_scope");
    }

    [Fact]
    public async Task Client_without_the_authorization_code_grant_is_unauthorized_client()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid(NoCodeFlowClientId).With("scope", "api1"));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "unauthorized_client");
    }

    [Theory]
    [InlineData("request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported")]
    [InlineData("request_uri", "https://app.example/request.jwt", "request_uri_not_supported")]
    [InlineData("registration", "{\"client_name\":\"x\"}", "registration_not_supported")]
    public async Task Request_objects_and_registration_are_refused_with_their_own_errors(string name, string value, string error)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With(name, value));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, error);
    }

    [Theory]
    [InlineData("none login")]
    [InlineData("login none")]
    [InlineData("create")]
    [InlineData("LOGIN")]
    [InlineData(" ")]
    public async Task Unknown_prompt_or_none_with_another_value_is_invalid_request(string prompt)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("prompt", prompt));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("+5")]
    [InlineData("99999999999")]
    public async Task Max_age_that_is_not_a_non_negative_integer_is_invalid_request(string maxAge)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("max_age", maxAge));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZS0xIn0.")]
    public async Task Invalid_id_token_hint_is_invalid_request(string hint)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("id_token_hint", hint));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Oversized_state_is_refused_without_echoing_it()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("state", new string('s', 2049)));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request", state: null);
    }

    [Fact]
    public async Task State_at_the_limit_is_accepted()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("state", new string('s', 2048)));
        AuthorizeAssert.SentToLogin(response);
    }

    [Theory]
    [InlineData("nonce", 513)]
    [InlineData("login_hint", 257)]
    [InlineData("ui_locales", 257)]
    [InlineData("acr_values", 257)]
    public async Task Oversized_user_facing_parameter_is_invalid_request(string name, int length)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With(name, new string('n', length)));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Form_over_8_KiB_is_shown_the_error_page()
    {
        using var content = new FormUrlEncodedContent(AuthorizeQuery.Valid().With("x_padding", new string('p', 8 * 1024)).Parameters);
        using var response = await Browser.PostAsync("connect/authorize", content);
        await AuthorizeAssert.ErrorPageAsync(Browser, response, "invalid_request");
    }

    [Fact]
    public async Task Query_over_8_KiB_is_refused_by_the_server_before_any_redirect()
    {
        // Kestrel's request line limit (8 KiB) is the authorize limit too: RFC 9110 §15.5.15.
        using var response = await GetAsync(AuthorizeQuery.Valid().With("x_padding", new string('p', 8 * 1024)));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Theory]
    [InlineData("line\r\nSet-Cookie: evil=1")]
    [InlineData("nul\0tab\tdel\u007f")]
    [InlineData("rtl\u202Eevil\u200B\uFEFF")]
    [InlineData("emoji \U0001F600 and \u00E9 and \u4E2D")]
    [InlineData("<script>alert(1)</script>&code=forged#frag")]
    [InlineData("%41%2F+ ?=&")]
    public async Task Hostile_state_is_echoed_exactly_and_url_encoded(string state)
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("state", state).With("response_type", "token"));

        var location = AuthorizeAssert.RawLocation(response);
        Assert.DoesNotContain(location, c => c is < '!' or > '~');
        var parameters = await AuthorizeAssert.RedirectedErrorAsync(response, Server, "unsupported_response_type", state: state);
        Assert.False(parameters.ContainsKey("code"));
        Assert.DoesNotContain(response.Headers, h => h.Key.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase) && h.Value.Any(v => v.Contains("evil", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Post_with_a_form_is_the_same_request_as_get()
    {
        using var content = new FormUrlEncodedContent(AuthorizeQuery.Valid().Parameters);
        using var response = await Browser.PostAsync("connect/authorize", content);
        AuthorizeAssert.SentToLogin(response);
    }

    [Fact]
    public async Task Post_with_a_bad_form_is_refused_like_get()
    {
        using var content = new FormUrlEncodedContent(AuthorizeQuery.Valid().With("response_type", "token").Parameters);
        using var response = await Browser.PostAsync("connect/authorize", content);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "unsupported_response_type");
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Other_methods_get_405(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), AuthorizeQuery.Valid().Url);
        using var response = await Browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Prompt_none_without_a_session_is_login_required_with_state_and_iss()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("prompt", "none"));
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "login_required");
    }

    [Fact]
    public async Task Prompt_none_error_goes_in_the_requested_fragment()
    {
        using var response = await GetAsync(AuthorizeQuery.Valid().With("prompt", "none").With("response_mode", "fragment"));
        var location = AuthorizeAssert.RawLocation(response);
        Assert.StartsWith(InteractiveServer.RedirectUri + "#error=login_required&", location, StringComparison.Ordinal);
        Assert.Contains("&iss=" + Uri.EscapeDataString(Server.BaseAddress), location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_answers_carry_no_cors_headers_even_with_an_origin()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Options })
        {
            using var request = new HttpRequestMessage(method, AuthorizeQuery.Valid().Url);
            request.Headers.Add("Origin", "https://app.example");
            request.Headers.Add("Access-Control-Request-Method", "GET");
            using var response = await Browser.SendAsync(request);
            Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task Error_page_id_does_not_carry_the_request_input()
    {
        const string Marker = "marker-in-the-request-0123456789";
        using var response = await GetAsync(AuthorizeQuery.Valid("unknown-" + Marker));
        var location = AuthorizeAssert.RawLocation(response);
        Assert.DoesNotContain(Marker, location, StringComparison.Ordinal);
        using var page = await Browser.GetAsync(location);
        Assert.DoesNotContain(Marker, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
