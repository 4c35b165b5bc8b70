using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Revocation;

/// <summary><c>/connect/revocation</c> (RFC 7009): who may revoke what, and the request format.</summary>
public sealed class RevocationTests : TokenServerTest
{
    /// <summary>A second confidential client, allowed api1, that did not get the tokens under test.</summary>
    private const string OtherClientId = "other-client";
    private const string OtherSecret = "other-secret";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, configure: c => c.AddInMemoryClients(
        [
            new Client
            {
                ClientId = OtherClientId,
                ClientSecrets = { Secret.FromPlainText(OtherSecret) },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
                AccessTokenType = AccessTokenType.Reference,
            },
        ]), time: _time);

    private static string Owner => TestTokens.Basic(TokenServer.ReferenceClientId, TokenServer.ClientSecret);

    private async Task<HttpResponseMessage> PostAsync(string path, string body, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Content = new StringContent(body, Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        if (!string.IsNullOrEmpty(authorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await Http.SendAsync(request);
    }

    /// <param name="authorization">The Authorization header; null for the owner's Basic credentials, "" for none.</param>
    private Task<HttpResponseMessage> RevokeAsync(string body, string? authorization = null)
        => PostAsync("connect/revocation", body, authorization ?? Owner);

    /// <summary>RFC 7009 §2.2: 200, no body worth reading, not cacheable.</summary>
    private static async Task AssertRevokedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("", body);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    private async Task<bool> IsActiveAsync(string token)
    {
        using var response = await PostAsync("connect/introspect", "token=" + Uri.EscapeDataString(token), TestTokens.Basic("api1", TokenServer.Api1Secret));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    private Task<string> ReferenceTokenAsync()
        => TestTokens.GetAccessTokenAsync(Http, TokenServer.ReferenceClientId, TokenServer.ClientSecret, "api1");

    [Fact]
    public async Task Owner_revokes_its_reference_token()
    {
        var token = await ReferenceTokenAsync();
        Assert.True(await IsActiveAsync(token));

        using (var response = await RevokeAsync("token=" + token))
        {
            await AssertRevokedAsync(response);
        }

        Assert.False(await IsActiveAsync(token));

        // RFC 7009 §2.2: revoking it again (now unknown) is still 200.
        using var again = await RevokeAsync("token=" + token);
        await AssertRevokedAsync(again);
    }

    [Fact]
    public async Task Owner_revokes_with_client_secret_post()
    {
        var token = await ReferenceTokenAsync();
        using var response = await RevokeAsync($"token={token}&client_id={TokenServer.ReferenceClientId}&client_secret={TokenServer.ClientSecret}", "");
        await AssertRevokedAsync(response);
        Assert.False(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Revocation_affects_only_the_revoked_token()
    {
        var revoked = await ReferenceTokenAsync();
        var kept = await ReferenceTokenAsync();
        using (var response = await RevokeAsync("token=" + revoked))
        {
            await AssertRevokedAsync(response);
        }

        Assert.False(await IsActiveAsync(revoked));
        Assert.True(await IsActiveAsync(kept));
    }

    [Fact]
    public async Task Another_client_cannot_revoke_the_token_and_it_stays_active()
    {
        var token = await ReferenceTokenAsync();

        // RFC 7009 §2.1: the server verifies the token was issued to the requesting client; if not, the request is
        // refused and the client informed of the error (unauthorized_client, §2.2.1 / RFC 6749 §5.2).
        using (var response = await RevokeAsync("token=" + token, TestTokens.Basic(OtherClientId, OtherSecret)))
        {
            await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "unauthorized_client");
        }

        Assert.True(await IsActiveAsync(token));

        // The JWT client is refused the same way.
        using (var response = await RevokeAsync("token=" + token, TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret)))
        {
            await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "unauthorized_client");
        }

        Assert.True(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Api_resource_credentials_cannot_revoke()
    {
        // Revocation is for clients (RFC 7009 §2.1); an API's introspection secret authenticates nothing here.
        var token = await ReferenceTokenAsync();
        using var response = await RevokeAsync("token=" + token, TestTokens.Basic("api1", TokenServer.Api1Secret));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.True(await IsActiveAsync(token));
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("a.b.c")]
    public async Task Unknown_token_returns_200(string token)
    {
        using var response = await RevokeAsync("token=" + token);
        await AssertRevokedAsync(response);
    }

    [Fact]
    public async Task Expired_token_returns_200()
    {
        var token = await ReferenceTokenAsync();
        _time.Advance(TimeSpan.FromHours(2));
        using var response = await RevokeAsync("token=" + token);
        await AssertRevokedAsync(response);
    }

    [Theory]
    [InlineData("access_token")]
    [InlineData("refresh_token")]
    [InlineData("foo")]
    [InlineData("")]
    public async Task Token_type_hint_is_only_a_hint(string hint)
    {
        // RFC 7009 §2.1: a hint that does not find the token extends the search to every supported type.
        // unsupported_token_type (§2.2.1) is not returned: the hint never restricts the search, and an access token
        // that cannot be recalled (a JWT) is answered 200 like an unknown one.
        var token = await ReferenceTokenAsync();
        using var response = await RevokeAsync($"token={token}&token_type_hint={hint}");
        await AssertRevokedAsync(response);
        Assert.False(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Revoking_a_jwt_is_a_200_no_op()
    {
        var jwt = await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        using var response = await RevokeAsync("token=" + jwt, TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret));
        await AssertRevokedAsync(response);

        // Self-contained: it cannot be recalled and stays valid until it expires.
        Assert.True(await IsActiveAsync(jwt));
    }

    [Fact]
    public async Task Missing_credentials_return_401_invalid_client()
    {
        var token = await ReferenceTokenAsync();
        using var response = await RevokeAsync("token=" + token, "");
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
        Assert.True(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Wrong_secret_returns_401_invalid_client()
    {
        var token = await ReferenceTokenAsync();
        using (var basic = await RevokeAsync("token=" + token, TestTokens.Basic(TokenServer.ReferenceClientId, "wrong")))
        {
            await ProtocolAssert.ErrorAsync(basic, HttpStatusCode.Unauthorized, "invalid_client");
            Assert.Equal("Basic", Assert.Single(basic.Headers.WwwAuthenticate).Scheme);
        }

        using (var post = await RevokeAsync($"token={token}&client_id={TokenServer.ReferenceClientId}&client_secret=wrong", ""))
        {
            await ProtocolAssert.ErrorAsync(post, HttpStatusCode.Unauthorized, "invalid_client");
        }

        Assert.True(await IsActiveAsync(token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("token=")]
    [InlineData("token_type_hint=access_token")]
    public async Task Missing_token_returns_invalid_request(string body)
    {
        using var response = await RevokeAsync(body);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("token={0}&token={0}")]
    [InlineData("token={0}&token=other")]
    [InlineData("token={0}&token_type_hint=access_token&token_type_hint=access_token")]
    [InlineData("token={0}&client_id=ref-client&client_id=ref-client")]
    public async Task Duplicated_parameters_return_invalid_request_and_revoke_nothing(string format)
    {
        var token = await ReferenceTokenAsync();
        using var response = await RevokeAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, token));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(await IsActiveAsync(token));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Methods_other_than_post_return_invalid_request(string method)
    {
        var token = await ReferenceTokenAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), "connect/revocation?token=" + token);
        request.Headers.TryAddWithoutValidation("Authorization", Owner);
        using var response = await Http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Oversized_token_returns_200_or_invalid_request_never_500()
    {
        using (var withinLimit = await RevokeAsync("token=" + new string('a', 20 * 1024)))
        {
            await AssertRevokedAsync(withinLimit);
        }

        using var overLimit = await RevokeAsync("token=" + new string('a', 70 * 1024));
        await ProtocolAssert.ErrorAsync(overLimit, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Revoked_handle_altered_by_one_character_revokes_nothing()
    {
        var token = await ReferenceTokenAsync();
        var altered = Base64UrlEncoder.Encode(new byte[32]);
        using var response = await RevokeAsync("token=" + altered);
        await AssertRevokedAsync(response);
        Assert.True(await IsActiveAsync(token));
    }
}
