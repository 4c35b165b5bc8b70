using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// Redeeming authorization codes (RFC 6749 §4.1.3, §10.5; RFC 9700 §4.5): once, by the client it was issued to, with
/// the same redirect_uri, within its lifetime; a replay revokes what the first redemption issued (RFC 6749 §4.1.2).
/// Every refusal is invalid_grant (or invalid_request for a malformed request) and never echoes the code.
/// </summary>
public sealed class CodeRedemptionTests : TokenServerTest, IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private BrowserSession? _browser;

    private BrowserSession Browser => _browser ??= new BrowserSession(Server);

    // Reference access tokens for the web client, so that revocation is visible at introspection.
    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, configureClients: client =>
    {
        if (client.ClientId == InteractiveServer.WebClientId)
        {
            client.AccessTokenType = AccessTokenType.Reference;
        }
    }, time: _clock);

    public void Dispose() => _browser?.Dispose();

    [Fact]
    public async Task Replayed_code_is_invalid_grant_and_revokes_the_tokens_of_the_first_redemption()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        var first = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        Assert.False(first.IsError, first.Error);
        Assert.NotNull(first.RefreshToken);
        Assert.True(await IsActiveAsync(first.AccessToken!), "the reference token is active before the replay");

        var replay = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        AssertInvalidGrant(replay, code);

        var refresh = await Http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = "connect/token",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            RefreshToken = first.RefreshToken!,
        });
        AssertInvalidGrant(refresh, code);
        Assert.False(await IsActiveAsync(first.AccessToken!), "the access token of the first redemption must be revoked");
    }

    [Fact]
    public async Task Code_presented_by_another_client_is_invalid_grant()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request, clientId: InteractiveServer.ConsentClientId);
        AssertInvalidGrant(tokens, code);
    }

    [Fact]
    public async Task Code_stolen_by_another_client_cannot_then_be_redeemed_by_its_own()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        AssertInvalidGrant(await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request, clientId: InteractiveServer.ConsentClientId), code);
        AssertInvalidGrant(await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request), code);
    }

    [Theory]
    [InlineData("http://127.0.0.1/callback")]
    [InlineData("https://app.example/signin-oidc/")]
    [InlineData("https://APP.example/signin-oidc")]
    public async Task Other_redirect_uri_at_redemption_is_invalid_grant(string redirectUri)
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request, redirectUri: redirectUri);
        AssertInvalidGrant(tokens, code);
    }

    [Fact]
    public async Task Loopback_code_redeemed_with_another_port_is_invalid_grant()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser, redirectUri: "http://127.0.0.1:5001/callback");
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request, redirectUri: "http://127.0.0.1:5002/callback");
        AssertInvalidGrant(tokens, code);
    }

    [Fact]
    public async Task Missing_redirect_uri_is_invalid_request_and_leaves_the_code_usable()
    {
        // RFC 6749 §4.1.3: required, as every authorization request here carries one; §5.2: a missing required
        // parameter is invalid_request.
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        using var response = await PostTokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["code_verifier"] = request.Verifier,
        });
        await AssertErrorAsync(response, "invalid_request", code);

        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        Assert.False(tokens.IsError, tokens.Error);
    }

    [Fact]
    public async Task Expired_code_is_invalid_grant()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        _clock.Advance(TimeSpan.FromSeconds(61));
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        AssertInvalidGrant(tokens, code);
    }

    [Fact]
    public async Task Code_just_within_its_lifetime_is_redeemed()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        _clock.Advance(TimeSpan.FromSeconds(59));
        var tokens = await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        Assert.False(tokens.IsError, tokens.Error);
    }

    [Fact]
    public async Task Fifty_concurrent_redemptions_of_one_code_give_exactly_one_success()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, 50).Select(async _ =>
        {
            await gate.Task;
            return await AuthorizationCodeFlowTests.RedeemAsync(Http, code, request);
        }).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => !r.IsError);
        var failures = results.Where(r => r.IsError).ToList();
        Assert.Equal(49, failures.Count);
        Assert.All(failures, f => AssertInvalidGrant(f, code));
    }

    [Fact]
    public async Task Code_sent_twice_in_the_form_is_invalid_request()
    {
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(Browser);
        using var content = new FormUrlEncodedContent(
        [
            new("grant_type", "authorization_code"),
            new("code", code),
            new("code", code),
            new("redirect_uri", InteractiveServer.RedirectUri),
            new("code_verifier", request.Verifier),
        ]);
        using var response = await SendTokenAsync(content);
        await AssertErrorAsync(response, "invalid_request", code);
    }

    [Fact]
    public async Task Oversized_code_is_invalid_request()
    {
        var code = new string('c', 257);
        using var response = await PostTokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = InteractiveServer.RedirectUri,
            ["code_verifier"] = AuthorizeQuery.Verifier,
        });
        await AssertErrorAsync(response, "invalid_request", code);
    }

    [Fact]
    public async Task Unknown_code_is_invalid_grant_without_echoing_it()
    {
        var code = "unknown-code-0123456789-abcdefghijklmnop";
        using var response = await PostTokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = InteractiveServer.RedirectUri,
            ["code_verifier"] = AuthorizeQuery.Verifier,
        });
        await AssertErrorAsync(response, "invalid_grant", code);
    }

    [Fact]
    public async Task Missing_code_is_invalid_request()
    {
        using var response = await PostTokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["redirect_uri"] = InteractiveServer.RedirectUri,
            ["code_verifier"] = AuthorizeQuery.Verifier,
        });
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    private static void AssertInvalidGrant(ProtocolResponse response, string code)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.HttpStatusCode);
        Assert.Equal("invalid_grant", response.Error);
        Assert.DoesNotContain(code, response.Raw, StringComparison.Ordinal);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, string error, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(code, body, StringComparison.Ordinal);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, error);
    }

    private Task<HttpResponseMessage> PostTokenAsync(Dictionary<string, string> form) => SendTokenAsync(new FormUrlEncodedContent(form));

    private async Task<HttpResponseMessage> SendTokenAsync(HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = content };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic(InteractiveServer.WebClientId, InteractiveServer.WebSecret));
        return await Http.SendAsync(request);
    }

    private async Task<bool> IsActiveAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("api1", TokenServer.Api1Secret));
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("active").GetBoolean();
    }
}
