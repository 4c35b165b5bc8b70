using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Introspection;

/// <summary>
/// <c>/connect/introspect</c>: RFC 7662 (active and inactive answers, caller authentication, request format) and
/// RFC 9701 (the answer as a signed JWT).
/// </summary>
public sealed class IntrospectionTests : TokenServerTest
{
    private const string JwtMediaType = "application/token-introspection+jwt";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, time: _time);

    private static string Api1 => TestTokens.Basic("api1", TokenServer.Api1Secret);

    private async Task<HttpResponseMessage> PostAsync(string body, string? authorization, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        request.Content = new StringContent(body, Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return await Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> IntrospectAsync(string token, string? authorization = null)
        => PostAsync("token=" + Uri.EscapeDataString(token), authorization ?? Api1);

    /// <summary>Introspects and returns the parsed JSON answer, after checking status, media type and caching headers.</summary>
    private async Task<JsonDocument> IntrospectJsonAsync(string token, string? authorization = null)
    {
        using var response = await IntrospectAsync(token, authorization);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return JsonDocument.Parse(body);
    }

    /// <summary>RFC 7662 §2.2: an inactive token gets <c>{"active":false}</c> and nothing that would say why.</summary>
    private async Task AssertInactiveAsync(string token, string? authorization = null)
    {
        using var json = await IntrospectJsonAsync(token, authorization);
        var member = Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal("active", member.Name);
        Assert.Equal(JsonValueKind.False, member.Value.ValueKind);
    }

    private Task<string> TokenAsync(string clientId, string scope)
        => TestTokens.GetAccessTokenAsync(Http, clientId, TokenServer.ClientSecret, scope);

    private static long Seconds(JsonElement root, string name)
    {
        var value = root.GetProperty(name);
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        return value.GetInt64();
    }

    private static List<string> Audiences(JsonElement root)
    {
        var aud = root.GetProperty("aud");
        return aud.ValueKind == JsonValueKind.Array ? aud.EnumerateArray().Select(a => a.GetString()!).ToList() : [aud.GetString()!];
    }

    [Theory]
    [InlineData(TokenServer.ReferenceClientId, false)]
    [InlineData(TokenServer.ReferenceClientId, true)]
    [InlineData(TokenServer.ClientId, false)]
    [InlineData(TokenServer.ClientId, true)]
    public async Task Api_sees_its_token_as_active_with_its_claims(string clientId, bool basic)
    {
        var token = await TokenAsync(clientId, "api1 api1.other");
        Assert.Equal(clientId == TokenServer.ReferenceClientId, ReferenceLike(token));

        using var response = basic
            ? await PostAsync("token=" + Uri.EscapeDataString(token), Api1)
            : await PostAsync($"token={Uri.EscapeDataString(token)}&client_id=api1&client_secret={TokenServer.Api1Secret}", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;

        Assert.True(root.GetProperty("active").GetBoolean());
        Assert.Equal("Bearer", root.GetProperty("token_type").GetString());
        Assert.Equal("api1 api1.other", root.GetProperty("scope").GetString());
        Assert.Equal(clientId, root.GetProperty("client_id").GetString());
        Assert.Equal(clientId, root.GetProperty("sub").GetString());
        Assert.Equal(Server.BaseAddress, root.GetProperty("iss").GetString());
        Assert.Equal(new[] { "api1" }, Audiences(root));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("jti").GetString()));

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var iat = Seconds(root, "iat");
        Assert.InRange(iat, now - 5, now);
        Assert.Equal(iat, Seconds(root, "nbf"));
        Assert.Equal(iat + 3600, Seconds(root, "exp"));

        // Client claims travel with the token under the client's claim prefix (default "client_").
        Assert.Equal("acme", root.GetProperty("client_tenant").GetString());
        Assert.False(root.TryGetProperty("tenant", out _));
    }

    [Fact]
    public async Task Jwt_introspection_answers_the_claims_the_jwt_carries()
    {
        var token = await TokenAsync(TokenServer.ClientId, "api1");
        using var json = await IntrospectJsonAsync(token);
        var jwt = new JsonWebToken(token);
        foreach (var claim in new[] { "iss", "sub", "client_id", "scope", "jti", "client_tenant" })
        {
            Assert.Equal(jwt.GetPayloadValue<string>(claim), json.RootElement.GetProperty(claim).GetString());
        }

        Assert.Equal(jwt.GetPayloadValue<long>("exp"), json.RootElement.GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Token_for_two_apis_is_active_for_both()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1 api2");
        using var forApi1 = await IntrospectJsonAsync(token, Api1);
        using var forApi2 = await IntrospectJsonAsync(token, TestTokens.Basic("api2", TokenServer.Api2Secret));
        Assert.True(forApi1.RootElement.GetProperty("active").GetBoolean());
        Assert.True(forApi2.RootElement.GetProperty("active").GetBoolean());
        Assert.Equal(new[] { "api1", "api2" }, Audiences(forApi1.RootElement));
    }

    [Fact]
    public async Task Unknown_tokens_are_inactive()
    {
        await AssertInactiveAsync(Base64UrlEncoder.Encode(new byte[32]));
        await AssertInactiveAsync("not-a-token");
        await AssertInactiveAsync("a.b.c");
        await AssertInactiveAsync("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.");
    }

    [Theory]
    [InlineData(TokenServer.ReferenceClientId)]
    [InlineData(TokenServer.ClientId)]
    public async Task Expired_token_is_inactive(string clientId)
    {
        var token = await TokenAsync(clientId, "api1");
        using (var before = await IntrospectJsonAsync(token))
        {
            Assert.True(before.RootElement.GetProperty("active").GetBoolean());
        }

        _time.Advance(TimeSpan.FromSeconds(3600));
        await AssertInactiveAsync(token);
    }

    [Fact]
    public async Task Token_just_before_expiry_is_still_active()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        _time.Advance(TimeSpan.FromSeconds(3599));
        using var json = await IntrospectJsonAsync(token);
        Assert.True(json.RootElement.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Revoked_reference_token_is_inactive()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/revocation");
        request.Headers.TryAddWithoutValidation("Authorization", TestTokens.Basic(TokenServer.ReferenceClientId, TokenServer.ClientSecret));
        request.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token });
        using (var revoked = await Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        await AssertInactiveAsync(token);
    }

    [Theory]
    [InlineData(TokenServer.ReferenceClientId)]
    [InlineData(TokenServer.ClientId)]
    public async Task Token_for_another_api_is_inactive(string clientId)
    {
        var token = await TokenAsync(clientId, "api2");
        await AssertInactiveAsync(token, Api1);

        // The same token is active for the API it was issued to.
        using var json = await IntrospectJsonAsync(token, TestTokens.Basic("api2", TokenServer.Api2Secret));
        Assert.True(json.RootElement.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Tampered_jwt_is_inactive()
    {
        var token = await TokenAsync(TokenServer.ClientId, "api2");
        var parts = token.Split('.');

        // The payload changed (api2 → api1), the signature kept: the signature no longer matches.
        var payload = TestTokens.ToDictionary(JsonDocument.Parse(Base64UrlEncoder.Decode(parts[1])).RootElement);
        payload["aud"] = "api1";
        payload["scope"] = "api1";
        var edited = parts[0] + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload)) + "." + parts[2];
        await AssertInactiveAsync(edited);

        // A flipped signature bit.
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[^1] ^= 1;
        await AssertInactiveAsync(parts[0] + "." + parts[1] + "." + Base64UrlEncoder.Encode(signature));

        // alg none, no signature.
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""");
        await AssertInactiveAsync(header + "." + parts[1] + ".");
    }

    [Fact]
    public async Task Reference_handle_altered_by_one_character_is_inactive()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        var altered = (token[0] == 'A' ? 'B' : 'A') + token[1..];
        await AssertInactiveAsync(altered);
    }

    [Fact]
    public async Task Jwt_from_another_server_is_inactive()
    {
        using var otherRoot = new TempDirectory();
        await using var other = await TokenServer.StartAsync(otherRoot);
        using var otherHttp = other.CreateClient();
        var foreign = await TestTokens.GetAccessTokenAsync(otherHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        var foreignReference = await TestTokens.GetAccessTokenAsync(otherHttp, TokenServer.ReferenceClientId, TokenServer.ClientSecret, "api1");

        await AssertInactiveAsync(foreign);
        await AssertInactiveAsync(foreignReference);
    }

    [Fact]
    public async Task Client_sees_its_own_token_as_active()
    {
        // A client authenticates with its own secret and sees its own tokens, whatever their audience.
        var reference = await TokenAsync(TokenServer.ReferenceClientId, "api2");
        using (var json = await IntrospectJsonAsync(reference, TestTokens.Basic(TokenServer.ReferenceClientId, TokenServer.ClientSecret)))
        {
            Assert.True(json.RootElement.GetProperty("active").GetBoolean());
            Assert.Equal(TokenServer.ReferenceClientId, json.RootElement.GetProperty("client_id").GetString());
        }

        var jwt = await TokenAsync(TokenServer.ClientId, "api1");
        using (var json = await IntrospectJsonAsync(jwt, TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret)))
        {
            Assert.True(json.RootElement.GetProperty("active").GetBoolean());
        }
    }

    [Fact]
    public async Task Client_sees_another_clients_token_as_inactive()
    {
        var reference = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        await AssertInactiveAsync(reference, TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret));

        var jwt = await TokenAsync(TokenServer.ClientId, "api1");
        await AssertInactiveAsync(jwt, TestTokens.Basic(TokenServer.ReferenceClientId, TokenServer.ClientSecret));
    }

    [Fact]
    public async Task Token_type_hint_is_only_a_hint()
    {
        var reference = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        foreach (var hint in new[] { "access_token", "refresh_token", "foo" })
        {
            using var response = await PostAsync($"token={reference}&token_type_hint={hint}", Api1);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("active").GetBoolean());
        }
    }

    [Fact]
    public async Task No_credentials_return_401_invalid_client_with_a_challenge()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var response = await PostAsync("token=" + token, null);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        // RFC 9110 §15.5.2: a 401 response MUST carry a WWW-Authenticate challenge.
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task Wrong_secret_returns_401_invalid_client()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using (var basic = await PostAsync("token=" + token, TestTokens.Basic("api1", "wrong")))
        {
            await ProtocolAssert.ErrorAsync(basic, HttpStatusCode.Unauthorized, "invalid_client");
            // RFC 6749 §5.2: Basic was used, so the challenge names Basic.
            Assert.Equal("Basic", Assert.Single(basic.Headers.WwwAuthenticate).Scheme);
        }

        using (var post = await PostAsync($"token={token}&client_id=api1&client_secret=wrong", null))
        {
            await ProtocolAssert.ErrorAsync(post, HttpStatusCode.Unauthorized, "invalid_client");
        }

        // Another API's secret does not authenticate api1.
        using (var swapped = await PostAsync("token=" + token, TestTokens.Basic("api1", TokenServer.Api2Secret)))
        {
            await ProtocolAssert.ErrorAsync(swapped, HttpStatusCode.Unauthorized, "invalid_client");
        }
    }

    [Theory]
    [InlineData("unknown-api")]
    [InlineData("")]
    public async Task Unknown_caller_returns_401_invalid_client(string id)
    {
        using var response = await PostAsync("token=x", id.Length == 0 ? "Basic Og==" : TestTokens.Basic(id, "secret"));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Caller_without_a_secret_returns_401_invalid_client()
    {
        // client_id alone (no secret) is no authentication for introspection (RFC 7662 §2.1).
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var response = await PostAsync($"token={token}&client_id=api1", null);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Theory]
    [InlineData("")]
    [InlineData("token=")]
    [InlineData("token_type_hint=access_token")]
    public async Task Missing_token_returns_invalid_request(string body)
    {
        using var response = await PostAsync(body, Api1);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Duplicated_token_returns_invalid_request()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var response = await PostAsync($"token={token}&token={token}", Api1);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Methods_other_than_post_return_invalid_request(string method)
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var request = new HttpRequestMessage(new HttpMethod(method), "connect/introspect?token=" + token);
        request.Headers.TryAddWithoutValidation("Authorization", Api1);
        using var response = await Http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Json_body_returns_invalid_request()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        request.Headers.TryAddWithoutValidation("Authorization", Api1);
        request.Content = new StringContent("""{"token":"x"}""", Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Oversized_token_within_the_body_limit_is_inactive()
    {
        // Longer than any token this server issues (16 KiB) but within the request limit: not looked at.
        await AssertInactiveAsync(new string('a', 20 * 1024));
        await AssertInactiveAsync("eyJ" + new string('A', 20 * 1024) + ".eyJ.sig");
    }

    [Fact]
    public async Task Token_over_the_body_limit_returns_invalid_request()
    {
        using var response = await PostAsync("token=" + new string('a', 70 * 1024), Api1);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("token=%ZZ")]
    [InlineData("token=%00")]
    [InlineData("token=%E2%28%A1")]
    [InlineData("token=..")]
    [InlineData("token=eyJ.eyJ.eyJ.eyJ.eyJ")]
    [InlineData("token=' OR 1=1 --")]
    public async Task Hostile_tokens_are_inactive_or_a_4xx_never_a_500(string body)
    {
        using var response = await PostAsync(body, Api1);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Assert.Equal("""{"active":false}""", text);
        }
        else
        {
            Assert.InRange((int)response.StatusCode, 400, 499);
        }
    }

    // RFC 9701: JWT response.

    private async Task<(JsonWebToken Jwt, JsonElement Introspection)> IntrospectAsJwtAsync(string token, string accept = JwtMediaType)
    {
        using var response = await PostAsync("token=" + Uri.EscapeDataString(token), Api1, accept);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal(JwtMediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        var jwks = await TestTokens.GetJwksAsync(Http);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(body, new TokenValidationParameters
        {
            ValidIssuer = Server.BaseAddress,
            ValidAudience = "api1",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["token-introspection+jwt"],
            ValidAlgorithms = ["RS256", "PS256", "ES256"],
            // RFC 9701 §5: the response carries iat, not exp.
            RequireExpirationTime = false,
            ValidateLifetime = false,
        });
        Assert.True(result.IsValid, result.Exception?.ToString());
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("token-introspection+jwt", jwt.Typ);
        Assert.Contains(jwks.Keys, k => k.Kid == jwt.Kid && k.Alg == jwt.Alg);

        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload));
        Assert.Equal(new[] { "aud", "iat", "iss", "token_introspection" }, payload.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("api1", payload.RootElement.GetProperty("aud").GetString());
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), payload.RootElement.GetProperty("iat").GetInt64());
        return (jwt, payload.RootElement.GetProperty("token_introspection").Clone());
    }

    [Theory]
    [InlineData(TokenServer.ReferenceClientId)]
    [InlineData(TokenServer.ClientId)]
    public async Task Jwt_response_holds_the_introspection_answer(string clientId)
    {
        var token = await TokenAsync(clientId, "api1");
        var (_, introspection) = await IntrospectAsJwtAsync(token);
        Assert.True(introspection.GetProperty("active").GetBoolean());
        Assert.Equal("api1", introspection.GetProperty("scope").GetString());
        Assert.Equal(clientId, introspection.GetProperty("client_id").GetString());
        Assert.Equal("api1", introspection.GetProperty("aud").GetString());
        Assert.Equal(Server.BaseAddress, introspection.GetProperty("iss").GetString());

        // The same members as the JSON answer.
        using var json = await IntrospectJsonAsync(token);
        Assert.Equal(json.RootElement.EnumerateObject().Select(p => p.Name), introspection.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Jwt_response_for_an_inactive_token_holds_only_active_false()
    {
        var (_, introspection) = await IntrospectAsJwtAsync("unknown");
        var member = Assert.Single(introspection.EnumerateObject());
        Assert.Equal("active", member.Name);
        Assert.Equal(JsonValueKind.False, member.Value.ValueKind);
    }

    [Fact]
    public async Task Jwt_response_is_chosen_among_several_accepted_types()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        var (_, introspection) = await IntrospectAsJwtAsync(token, "application/json;q=0.5, application/token-introspection+jwt");
        Assert.True(introspection.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Jwt_type_refused_with_q_0_gets_json()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId, "api1");
        using var response = await PostAsync("token=" + token, Api1, "application/token-introspection+jwt;q=0, application/json");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Errors_stay_json_when_a_jwt_is_accepted()
    {
        using var response = await PostAsync("token=x", TestTokens.Basic("api1", "wrong"), JwtMediaType);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    private static bool ReferenceLike(string token) => token.Length == 43 && !token.Contains('.', StringComparison.Ordinal);
}
