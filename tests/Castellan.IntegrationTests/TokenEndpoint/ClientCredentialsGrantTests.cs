using System.Net;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// RFC 6749 §4.4 and §5.1: the client credentials grant's successful response, the access token it carries
/// (RFC 9068), and which scopes and audiences a request gets.
/// </summary>
public sealed class ClientCredentialsGrantTests : TokenServerTest
{
    private const string ShortLivedClientId = "short-lived";
    private const int ShortLifetime = 120;
    private const string Api1OnlyClientId = "api1-only";
    private const string OpenIdClientId = "with-openid";
    private const string OrphanClientId = "orphan";
    private const string DisabledScopeClientId = "disabled-scope";

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, castellan => castellan
            .AddInMemoryIdentityResources([IdentityResource.OpenId()])
            // "orphan" belongs to no API resource; "retired" is disabled.
            .AddInMemoryApiScopes([new ApiScope("orphan"), new ApiScope("retired") { Enabled = false }])
            .AddInMemoryClients(
            [
                Client(ShortLivedClientId, c => c.AccessTokenLifetime = ShortLifetime, "api1"),
                Client(Api1OnlyClientId, null, "api1"),
                Client(OpenIdClientId, null, "openid", "api1"),
                Client(OrphanClientId, null, "orphan"),
                Client(DisabledScopeClientId, null, "retired", "api2"),
            ]));

    private static Client Client(string id, Action<Client>? configure, params string[] scopes)
    {
        var client = new Client
        {
            ClientId = id,
            ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
        };
        foreach (var scope in scopes)
        {
            client.AllowedScopes.Add(scope);
        }

        configure?.Invoke(client);
        return client;
    }

    private Task<HttpResponseMessage> RequestAsync(string? scope, string clientId = TokenServer.ClientId)
        => TestTokens.RequestAsync(Http, clientId, TokenServer.ClientSecret, scope);

    /// <summary>A 200 token response, parsed; fails with the body otherwise.</summary>
    private async Task<TokenResponse> GetTokenAsync(string? scope, string clientId = TokenServer.ClientId)
    {
        using var response = await RequestAsync(scope, clientId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return new TokenResponse(
            root.GetProperty("access_token").GetString()!,
            root.GetProperty("token_type").GetString()!,
            root.GetProperty("expires_in").GetInt32(),
            root.GetProperty("scope").GetString()!);
    }

    private sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string Scope);

    /// <summary>The JWT payload as JSON, to see how claims are written (a string or an array).</summary>
    private static JsonDocument Payload(string jwt) => JsonDocument.Parse(Base64UrlEncoder.Decode(jwt.Split('.')[1]));

    private async Task AssertInvalidScopeAsync(string? scope, string clientId = TokenServer.ClientId)
    {
        using var response = await RequestAsync(scope, clientId);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope");
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Success_response_is_rfc6749_json_that_is_not_cached()
    {
        using var response = await RequestAsync("api1");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // RFC 6749 §5.1: application/json, Cache-Control: no-store, Pragma: no-cache.
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet, ignoreCase: true);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-cache", response.Headers.Pragma.ToString());

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.String, root.GetProperty("access_token").ValueKind);
        Assert.Equal("Bearer", root.GetProperty("token_type").GetString());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("expires_in").ValueKind);
        Assert.Equal(3600, root.GetProperty("expires_in").GetInt32());
        Assert.Equal("api1", root.GetProperty("scope").GetString());

        // RFC 6749 §4.4.3: a refresh token SHOULD NOT be included; nothing else is in the body either.
        Assert.False(root.TryGetProperty("refresh_token", out _));
        Assert.Equal(["access_token", "token_type", "expires_in", "scope"], root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Expires_in_and_exp_follow_a_custom_access_token_lifetime()
    {
        var token = await GetTokenAsync("api1", ShortLivedClientId);
        Assert.Equal(ShortLifetime, token.ExpiresIn);

        var jwt = new JsonWebToken(token.AccessToken);
        Assert.Equal(ShortLifetime, (jwt.ValidTo - jwt.IssuedAt).TotalSeconds);
    }

    [Fact]
    public async Task Access_token_header_is_rfc9068_and_names_a_published_key()
    {
        var token = await GetTokenAsync("api1");
        var jwt = new JsonWebToken(token.AccessToken);

        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("RS256", jwt.Alg);
        Assert.False(string.IsNullOrEmpty(jwt.Kid));
        var jwks = await TestTokens.GetJwksAsync(Http);
        Assert.Contains(jwks.Keys, k => k.Kid == jwt.Kid);

        // And an API that validates like RFC 9068 §4 asks accepts it.
        var result = await TestTokens.ValidateAsync(Http, token.AccessToken, Server.BaseAddress, "api1");
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task Access_token_carries_the_rfc9068_claims()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = await GetTokenAsync("api1");
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using var payload = Payload(token.AccessToken);
        var claims = payload.RootElement;
        Assert.Equal(Server.BaseAddress, claims.GetProperty("iss").GetString());
        var iat = claims.GetProperty("iat").GetInt64();
        Assert.InRange(iat, before, after);
        Assert.Equal(iat, claims.GetProperty("nbf").GetInt64());
        Assert.Equal(iat + 3600, claims.GetProperty("exp").GetInt64());
        Assert.Matches("^[0-9A-F]{32}$", claims.GetProperty("jti").GetString());
        Assert.Equal(TokenServer.ClientId, claims.GetProperty("client_id").GetString());
        Assert.Equal("api1", claims.GetProperty("scope").GetString());

        // One audience is a plain string (RFC 7519 §4.1.3).
        Assert.Equal(JsonValueKind.String, claims.GetProperty("aud").ValueKind);
        Assert.Equal("api1", claims.GetProperty("aud").GetString());

        // RFC 9068 §2.2: with no resource owner (client credentials), sub identifies the client.
        Assert.Equal(TokenServer.ClientId, claims.GetProperty("sub").GetString());

        // Client claims are prefixed, so a client cannot mint registered claim names for itself.
        Assert.Equal("acme", claims.GetProperty("client_tenant").GetString());
        Assert.False(claims.TryGetProperty("tenant", out _));
    }

    [Fact]
    public async Task Every_token_gets_its_own_jti()
    {
        var first = new JsonWebToken((await GetTokenAsync("api1")).AccessToken);
        var second = new JsonWebToken((await GetTokenAsync("api1")).AccessToken);
        Assert.NotEqual(first.Id, second.Id);
        Assert.NotEqual(first.EncodedToken, second.EncodedToken);
    }

    [Fact]
    public async Task Scopes_of_two_apis_give_both_audiences()
    {
        var token = await GetTokenAsync("api1 api2");
        Assert.Equal("api1 api2", token.Scope);

        using var payload = Payload(token.AccessToken);
        var aud = payload.RootElement.GetProperty("aud");
        Assert.Equal(JsonValueKind.Array, aud.ValueKind);
        Assert.Equal(["api1", "api2"], aud.EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("api1 api2", payload.RootElement.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Two_scopes_of_one_api_give_it_once_as_the_audience()
    {
        var token = await GetTokenAsync("api1 api1.other");
        Assert.Equal("api1 api1.other", token.Scope);
        Assert.Equal(["api1"], new JsonWebToken(token.AccessToken).Audiences);
    }

    [Fact]
    public async Task No_scope_gets_every_allowed_api_scope()
    {
        // RFC 6749 §3.3: without scope the server uses a pre-defined default, and says which scopes it granted.
        var token = await GetTokenAsync(null);
        Assert.Equal("api1 api1.other api2", token.Scope);

        var jwt = new JsonWebToken(token.AccessToken);
        Assert.Equal("api1 api1.other api2", jwt.GetClaim("scope").Value);
        Assert.Equal(["api1", "api2"], jwt.Audiences);
    }

    [Fact]
    public async Task Empty_scope_counts_as_absent()
    {
        // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
        var token = await GetTokenAsync("");
        Assert.Equal("api1 api1.other api2", token.Scope);
    }

    [Theory]
    [InlineData("api2", "api2")]
    [InlineData("api1.other", "api1")]
    public async Task A_subset_gets_only_that_subset(string scope, string audience)
    {
        var token = await GetTokenAsync(scope);
        Assert.Equal(scope, token.Scope);

        var jwt = new JsonWebToken(token.AccessToken);
        Assert.Equal(scope, jwt.GetClaim("scope").Value);
        Assert.Equal([audience], jwt.Audiences);
    }

    [Theory]
    [InlineData("api1 api1", "api1")]
    [InlineData("api1 api2 api1", "api1 api2")]
    [InlineData("api2 api2 api2", "api2")]
    public async Task Repeated_scope_values_are_granted_once(string scope, string granted)
    {
        // RFC 6749 §3.3: scope is a set of case-sensitive strings whose order does not matter; a repeat asks for
        // nothing more, so it is collapsed rather than refused.
        var token = await GetTokenAsync(scope);
        Assert.Equal(granted, token.Scope);
        Assert.Equal(granted, new JsonWebToken(token.AccessToken).GetClaim("scope").Value);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("api1 nope")]
    [InlineData("API1")]
    [InlineData("api")]
    public async Task Unknown_scope_returns_invalid_scope(string scope)
    {
        await AssertInvalidScopeAsync(scope);
    }

    [Theory]
    [InlineData("api2")]
    [InlineData("api1 api2")]
    [InlineData("api1.other")]
    public async Task Scope_not_allowed_for_the_client_returns_invalid_scope(string scope)
    {
        await AssertInvalidScopeAsync(scope, Api1OnlyClientId);

        // The same scopes are fine for a client that is allowed them.
        await GetTokenAsync(scope);
    }

    [Fact]
    public async Task Not_allowed_scope_is_named_in_the_description()
    {
        using var response = await RequestAsync("api1 api2", Api1OnlyClientId);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("The client is not allowed the scope 'api2'.", json.RootElement.GetProperty("error_description").GetString());
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("   ")]
    [InlineData("\t")]
    [InlineData(" api1")]
    [InlineData("api1 ")]
    [InlineData("api1  api2")]
    [InlineData("api1\tapi2")]
    [InlineData("api1\napi2")]
    [InlineData("api1,api2")]
    public async Task Malformed_scope_returns_invalid_scope(string scope)
    {
        // RFC 6749 §3.3: scope = scope-token *( SP scope-token ); whitespace alone is not a scope, and only single
        // spaces separate scopes.
        await AssertInvalidScopeAsync(scope);
    }

    [Fact]
    public async Task Scope_over_the_length_limit_returns_invalid_scope()
    {
        await AssertInvalidScopeAsync(string.Join(' ', Enumerable.Repeat("api1", 500)));
    }

    [Fact]
    public async Task Identity_scope_needs_a_user_and_returns_invalid_scope()
    {
        await AssertInvalidScopeAsync("openid", OpenIdClientId);
        await AssertInvalidScopeAsync("openid api1", OpenIdClientId);
    }

    [Fact]
    public async Task Default_scopes_skip_identity_scopes()
    {
        var token = await GetTokenAsync(null, OpenIdClientId);
        Assert.Equal("api1", token.Scope);
    }

    [Fact]
    public async Task Disabled_scope_returns_invalid_scope_and_is_left_out_of_the_default()
    {
        await AssertInvalidScopeAsync("retired", DisabledScopeClientId);

        var token = await GetTokenAsync(null, DisabledScopeClientId);
        Assert.Equal("api2", token.Scope);
    }

    [Fact]
    public async Task Scope_of_no_api_resource_gets_the_issuer_resources_audience()
    {
        // RFC 9068 §2.2 requires aud even when no API resource claims the scope.
        var token = await GetTokenAsync("orphan", OrphanClientId);
        Assert.Equal([Server.BaseAddress + "/resources"], new JsonWebToken(token.AccessToken).Audiences);
    }

    [Fact]
    public async Task Reference_client_gets_an_opaque_token()
    {
        var token = await GetTokenAsync("api1", TokenServer.ReferenceClientId);
        Assert.Equal("Bearer", token.TokenType);
        Assert.Equal(3600, token.ExpiresIn);
        Assert.Equal("api1", token.Scope);

        // Not a JWS (three dot-separated parts), and at least 256 bits of base64url.
        Assert.DoesNotContain('.', token.AccessToken);
        Assert.Matches("^[A-Za-z0-9_-]{43,}$", token.AccessToken);

        var second = await GetTokenAsync("api1", TokenServer.ReferenceClientId);
        Assert.NotEqual(token.AccessToken, second.AccessToken);
    }

    [Fact]
    public async Task Reference_token_carries_the_same_claims_through_introspection()
    {
        var token = await GetTokenAsync("api1 api2", TokenServer.ReferenceClientId);
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        request.Headers.Authorization = System.Net.Http.Headers.AuthenticationHeaderValue.Parse(TestTokens.Basic("api1", TokenServer.Api1Secret));
        request.Content = new FormUrlEncodedContent([KeyValuePair.Create("token", token.AccessToken)]);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.True(root.GetProperty("active").GetBoolean());
        Assert.Equal(TokenServer.ReferenceClientId, root.GetProperty("client_id").GetString());
        Assert.Equal("acme", root.GetProperty("client_tenant").GetString());
    }
}
