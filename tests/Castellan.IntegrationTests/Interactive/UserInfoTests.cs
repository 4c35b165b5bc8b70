using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// /connect/userinfo refusing what is not a valid access token for an OpenID Connect request (OIDC Core §5.3.3,
/// RFC 6750 §2-3): the status, the WWW-Authenticate challenge and the error code.
/// </summary>
public sealed class UserInfoTests : TokenServerTest, IDisposable
{
    private readonly SwitchableProfileService _profiles = new();
    private BrowserSession? _browser;

    private BrowserSession Browser => _browser ??= new BrowserSession(Server);

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => InteractiveServer.StartAsync(root, configure: c => c.Services.AddSingleton<IProfileService>(_profiles));

    public void Dispose() => _browser?.Dispose();

    [Fact]
    public async Task Valid_token_in_the_header_gets_the_claims()
    {
        var (access, _) = await GetTokensAsync();
        using var response = await GetAsync(access);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(InteractiveServer.SubjectId, json.RootElement.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task No_token_is_401_with_a_bare_bearer_challenge()
    {
        using var response = await Http.GetAsync("connect/userinfo");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // RFC 6750 §3.1: a request without credentials gets no error code; RFC 9449 §7.1: DPoP is offered beside it.
        Assert.Equal(["Bearer", "DPoP"], response.Headers.WwwAuthenticate.Select(c => c.Scheme));
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.First().ToString());
        Assert.StartsWith("algs=\"ES256", response.Headers.WwwAuthenticate.Last().Parameter, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJhbGljZS0xIiwic2NvcGUiOiJvcGVuaWQifQ.")]
    public async Task Invalid_token_is_401_invalid_token(string token)
    {
        using var response = await GetAsync(token);
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Tampered_access_token_is_401_invalid_token()
    {
        var (access, _) = await GetTokensAsync();
        using var response = await GetAsync(access[..^4] + (access[^4] == 'A' ? "BBBB" : "AAAA"));
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Id_token_presented_as_access_token_is_401_invalid_token()
    {
        var (_, idToken) = await GetTokensAsync();
        using var response = await GetAsync(idToken);
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task Client_credentials_token_without_openid_is_403_insufficient_scope()
    {
        var token = await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        using var response = await GetAsync(token);
        await AssertChallengeAsync(response, HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Contains("scope=\"openid\"", response.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_token_without_openid_is_403_insufficient_scope()
    {
        var (access, _) = await GetTokensAsync("api1");
        using var response = await GetAsync(access);
        await AssertChallengeAsync(response, HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Fact]
    public async Task Token_in_header_and_form_is_400_invalid_request()
    {
        var (access, _) = await GetTokensAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/userinfo")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["access_token"] = access }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access);
        using var response = await Http.SendAsync(request);
        await AssertChallengeAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Basic_credentials_are_400_invalid_request()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic(InteractiveServer.WebClientId, InteractiveServer.WebSecret));
        using var response = await Http.SendAsync(request);
        await AssertChallengeAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Post_with_the_token_in_the_form_gets_the_claims()
    {
        var (access, _) = await GetTokensAsync();
        using var response = await Http.PostAsync("connect/userinfo", new FormUrlEncodedContent(new Dictionary<string, string> { ["access_token"] = access }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(InteractiveServer.SubjectId, json.RootElement.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Token_in_the_query_is_not_accepted()
    {
        // RFC 6750 §2.3 (URI query parameter) is not supported: tokens in URLs end up in logs and Referer headers.
        var (access, _) = await GetTokensAsync();
        using var response = await Http.GetAsync("connect/userinfo?access_token=" + Uri.EscapeDataString(access));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.First().ToString());
    }

    [Fact]
    public async Task Token_of_a_user_no_longer_active_is_401_invalid_token()
    {
        var (access, _) = await GetTokensAsync();
        _profiles.Active = false;
        using var response = await GetAsync(access);
        await AssertChallengeAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Other_methods_get_405(string method)
    {
        var (access, _) = await GetTokensAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), "connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Oversized_and_hostile_tokens_are_invalid_token_never_a_server_error()
    {
        foreach (var token in new[] { new string('a', 20_000), "eyJ.eyJ.sig", "%00%0d%0a", "a.b.c.d.e" })
        {
            using var response = await GetAsync(token);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    private async Task<(string AccessToken, string IdToken)> GetTokensAsync(string scope = "openid profile api1")
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser, scope: scope);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        Assert.False(tokens.IsError, tokens.Error);
        return (tokens.AccessToken!, tokens.IdentityToken ?? "");
    }

    private async Task<HttpResponseMessage> GetAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return await Http.SendAsync(request);
    }

    private static async Task AssertChallengeAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var challenge = response.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"error=\"{error}\"", challenge.Parameter, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
    }

    /// <summary>The test users' claims, with an activity switch the test can flip after tokens were issued.</summary>
    private sealed class SwitchableProfileService : IProfileService
    {
        public bool Active { get; set; } = true;

        public ValueTask<IReadOnlyList<Claim>> GetProfileClaimsAsync(ProfileRequest request, CancellationToken cancellationToken)
            => ValueTask.FromResult<IReadOnlyList<Claim>>(InteractiveServer.Alice().Claims.Where(c => request.RequestedClaimTypes.Contains(c.Type)).ToList());

        public ValueTask<bool> IsActiveAsync(string subjectId, Client client, string caller, CancellationToken cancellationToken)
            => ValueTask.FromResult(Active);
    }
}
