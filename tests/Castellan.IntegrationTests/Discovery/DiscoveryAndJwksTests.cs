using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Castellan.IntegrationTests.Discovery;

/// <summary>
/// <c>/.well-known/openid-configuration</c> (RFC 8414) and the JWKS (RFC 7517): what they advertise, their caching
/// headers, and that third-party parsers accept them.
/// </summary>
public sealed class DiscoveryAndJwksTests : TokenServerTest
{
    private const string DiscoveryPath = ".well-known/openid-configuration";
    private const string JwksPath = ".well-known/openid-configuration/jwks";

    private async Task<JsonDocument> DiscoveryAsync()
    {
        using var response = await Http.GetAsync(DiscoveryPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static string[] Strings(JsonElement root, string name)
        => root.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task Issuer_and_endpoints_are_absolute_urls_under_the_server_address()
    {
        using var json = await DiscoveryAsync();
        var root = json.RootElement;
        var issuer = Server.BaseAddress;
        Assert.Equal(issuer, root.GetProperty("issuer").GetString());
        Assert.Equal(issuer + "/connect/token", root.GetProperty("token_endpoint").GetString());
        Assert.Equal(issuer + "/" + JwksPath, root.GetProperty("jwks_uri").GetString());
        Assert.Equal(issuer + "/connect/introspect", root.GetProperty("introspection_endpoint").GetString());
        Assert.Equal(issuer + "/connect/revocation", root.GetProperty("revocation_endpoint").GetString());
    }

    [Fact]
    public async Task Auth_methods_grant_types_and_scopes_are_what_the_server_supports()
    {
        using var json = await DiscoveryAsync();
        var root = json.RootElement;
        string[] provingMethods = ["client_secret_basic", "client_secret_jwt", "client_secret_post", "private_key_jwt"];
        string[] withNone = ["client_secret_basic", "client_secret_jwt", "client_secret_post", "none", "private_key_jwt"];
        // Public clients authenticate with none at the token endpoint and, for their own tokens, at revocation
        // (RFC 7009 §2.1); introspection needs a credential.
        Assert.Equal(withNone, Strings(root, "token_endpoint_auth_methods_supported").Order(StringComparer.Ordinal));
        Assert.Equal(provingMethods, Strings(root, "introspection_endpoint_auth_methods_supported").Order(StringComparer.Ordinal));
        Assert.Equal(withNone, Strings(root, "revocation_endpoint_auth_methods_supported").Order(StringComparer.Ordinal));

        Assert.Equal(new[] { "client_credentials", "authorization_code", "refresh_token", "password" }, Strings(root, "grant_types_supported"));
        Assert.Equal(new[] { "code" }, Strings(root, "response_types_supported"));
        Assert.Equal(new[] { "api1", "api1.other", "api2", "offline_access" }, Strings(root, "scopes_supported").Order(StringComparer.Ordinal));

        // RFC 9701 §7: the algorithm of JWT introspection responses is one the JWKS publishes.
        using var jwks = JsonDocument.Parse(await Http.GetStringAsync(JwksPath));
        var published = jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("alg").GetString()).ToHashSet();
        Assert.All(Strings(root, "introspection_signing_alg_values_supported"), alg => Assert.Contains(alg, published));
        Assert.All(Strings(root, "access_token_signing_alg_values_supported"), alg => Assert.Contains(alg, published));
    }

    [Fact]
    public async Task Nothing_unsupported_is_advertised()
    {
        using var json = await DiscoveryAsync();
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[]
        {
            "access_token_signing_alg_values_supported",
            "authorization_endpoint",
            "authorization_response_iss_parameter_supported",
            "backchannel_logout_session_supported",
            "backchannel_logout_supported",
            "claims_supported",
            "code_challenge_methods_supported",
            "dpop_signing_alg_values_supported",
            "end_session_endpoint",
            "frontchannel_logout_session_supported",
            "frontchannel_logout_supported",
            "grant_types_supported",
            "id_token_signing_alg_values_supported",
            "introspection_endpoint",
            "introspection_endpoint_auth_methods_supported",
            "introspection_endpoint_auth_signing_alg_values_supported",
            "introspection_signing_alg_values_supported",
            "issuer",
            "jwks_uri",
            "prompt_values_supported",
            "request_parameter_supported",
            "request_uri_parameter_supported",
            "response_modes_supported",
            "response_types_supported",
            "revocation_endpoint",
            "revocation_endpoint_auth_methods_supported",
            "revocation_endpoint_auth_signing_alg_values_supported",
            "scopes_supported",
            "subject_types_supported",
            "token_endpoint",
            "token_endpoint_auth_methods_supported",
            "token_endpoint_auth_signing_alg_values_supported",
            "userinfo_endpoint",
        }, names);

        foreach (var unsupported in new[]
                 {
                     "device_authorization_endpoint", "pushed_authorization_request_endpoint", "registration_endpoint",
                     "mtls_endpoint_aliases", "check_session_iframe",
                 })
        {
            Assert.DoesNotContain(unsupported, names);
        }

        // Only the code flow with S256 (RFC 9700 §2.1.1-2).
        Assert.Equal(new[] { "code" }, Strings(json.RootElement, "response_types_supported"));
        Assert.Equal(new[] { "S256" }, Strings(json.RootElement, "code_challenge_methods_supported"));
        Assert.False(json.RootElement.GetProperty("request_parameter_supported").GetBoolean());
    }

    [Fact]
    public async Task Discovery_is_cacheable_for_a_while()
    {
        using var response = await Http.GetAsync(DiscoveryPath);
        var cacheControl = response.Headers.CacheControl;
        Assert.NotNull(cacheControl);
        Assert.True(cacheControl.Public);
        Assert.Equal(TimeSpan.FromHours(1), cacheControl.MaxAge);
        Assert.False(cacheControl.NoStore);
    }

    [Fact]
    public async Task Configured_issuer_uri_is_the_issuer()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root, options: o => o.IssuerUri = "https://login.example.com/");
        using var http = server.CreateClient();
        using var json = JsonDocument.Parse(await http.GetStringAsync(DiscoveryPath));
        Assert.Equal("https://login.example.com", json.RootElement.GetProperty("issuer").GetString());
        Assert.Equal("https://login.example.com/connect/token", json.RootElement.GetProperty("token_endpoint").GetString());
    }

    [Theory]
    [InlineData(DiscoveryPath)]
    [InlineData(JwksPath)]
    public async Task Head_answers_like_get_without_a_body(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("POST", DiscoveryPath)]
    [InlineData("PUT", DiscoveryPath)]
    [InlineData("DELETE", DiscoveryPath)]
    [InlineData("POST", JwksPath)]
    [InlineData("PUT", JwksPath)]
    [InlineData("DELETE", JwksPath)]
    public async Task Other_methods_get_405_with_allow(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("x") };
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(new[] { "GET", "HEAD" }, response.Content.Headers.Allow.Order(StringComparer.Ordinal));
    }

    // JWKS.

    [Fact]
    public async Task Jwks_publishes_public_signing_keys_only()
    {
        using var response = await Http.GetAsync(JwksPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/jwk-set+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var keys = json.RootElement.GetProperty("keys").EnumerateArray().ToList();
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
            Assert.False(string.IsNullOrEmpty(key.GetProperty("alg").GetString()));
            Assert.Equal("sig", key.GetProperty("use").GetString());
            var kty = key.GetProperty("kty").GetString();
            Assert.Contains(kty, new[] { "RSA", "EC" });

            // RFC 7518 §6.2.2 / §6.3.2: private members; "k" would be a symmetric secret.
            foreach (var secret in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
            {
                Assert.False(key.TryGetProperty(secret, out _), $"key {key.GetProperty("kid")} publishes '{secret}'");
            }

            if (kty == "RSA")
            {
                Assert.True(key.TryGetProperty("n", out _));
                Assert.True(key.TryGetProperty("e", out _));
            }
        }

        Assert.Equal(keys.Count, keys.Select(k => k.GetProperty("kid").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Tokens_are_signed_by_a_published_key()
    {
        var token = new JsonWebToken(await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1"));
        var jwks = await TestTokens.GetJwksAsync(Http);
        var key = Assert.Single(jwks.Keys, k => k.Kid == token.Kid);
        Assert.Equal(token.Alg, key.Alg);
    }

    [Theory]
    [InlineData(JwksPath)]
    [InlineData(DiscoveryPath)]
    public async Task Document_has_an_etag_and_conditional_get_returns_304(string path)
    {
        using var first = await Http.GetAsync(path);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.NotNull(first.Headers.CacheControl?.MaxAge);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, path);
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, notModified.Headers.ETag);
    }

    [Theory]
    [InlineData("\"0000\", {0}", JwksPath)]
    [InlineData("W/{0}", JwksPath)]
    [InlineData("*", JwksPath)]
    [InlineData("\"0000\", {0}", DiscoveryPath)]
    [InlineData("W/{0}", DiscoveryPath)]
    public async Task Conditional_get_follows_if_none_match_list_rules(string format, string path)
    {
        // RFC 9110 §13.1.2: If-None-Match is "*" or a list of entity tags compared weakly; a match means 304 for GET.
        using var first = await Http.GetAsync(path);
        var etag = first.Headers.ETag!.Tag;
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("If-None-Match", format.Replace("{0}", etag, StringComparison.Ordinal));
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Theory]
    [InlineData("\"0000\"", JwksPath)]
    [InlineData("W/\"0000\"", JwksPath)]
    [InlineData("\"0000\"", DiscoveryPath)]
    public async Task Conditional_get_with_another_etag_returns_the_document(string other, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("If-None-Match", other);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.NotEmpty(json.RootElement.EnumerateObject());
    }

    [Theory]
    [InlineData(JwksPath)]
    [InlineData(DiscoveryPath)]
    public async Task Etag_is_stable_across_requests(string path)
    {
        using var first = await Http.GetAsync(path);
        using var second = await Http.GetAsync(path);
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Discovery_etag_differs_per_issuer()
    {
        // Without IssuerUri the document names the host the caller used, so each host name has its own tag.
        using var byAddress = await Http.GetAsync(DiscoveryPath);
        using var request = new HttpRequestMessage(HttpMethod.Get, DiscoveryPath);
        request.Headers.Host = "localhost:" + new Uri(Server.BaseAddress).Port;
        using var byName = await Http.SendAsync(request);
        Assert.NotEqual(byAddress.Headers.ETag, byName.Headers.ETag);
    }

    // Third-party parsers.

    [Fact]
    public async Task Microsoft_openid_connect_configuration_retriever_accepts_the_document()
    {
        var configuration = await OpenIdConnectConfigurationRetriever.GetAsync(
            Server.BaseAddress + "/" + DiscoveryPath, new HttpDocumentRetriever(Http) { RequireHttps = false }, CancellationToken.None);

        Assert.Equal(Server.BaseAddress, configuration.Issuer);
        Assert.Equal(Server.BaseAddress + "/connect/token", configuration.TokenEndpoint);
        Assert.Equal(Server.BaseAddress + "/connect/introspect", configuration.IntrospectionEndpoint);
        Assert.Equal(Server.BaseAddress + "/" + JwksPath, configuration.JwksUri);
        Assert.Contains("client_credentials", configuration.GrantTypesSupported);
        Assert.NotEmpty(configuration.SigningKeys);

        // The keys it loaded validate a token of this server.
        var token = await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new Microsoft.IdentityModel.Tokens.TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = "api1",
            IssuerSigningKeys = configuration.SigningKeys,
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.ToString());
    }

    [Fact]
    public async Task Duende_identity_model_accepts_the_document_under_its_default_policy()
    {
        // Its policy checks the issuer name against the address, every endpoint against the authority, and loads the JWKS.
        var discovery = await Http.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = Server.BaseAddress,
            Policy = { RequireHttps = false },
        });

        Assert.False(discovery.IsError, discovery.Error);
        Assert.Equal(Server.BaseAddress, discovery.Issuer);
        Assert.Equal(Server.BaseAddress + "/connect/token", discovery.TokenEndpoint);
        Assert.Equal(Server.BaseAddress + "/connect/introspect", discovery.IntrospectionEndpoint);
        Assert.Equal(Server.BaseAddress + "/connect/revocation", discovery.RevocationEndpoint);
        Assert.Equal(new[] { "client_credentials", "authorization_code", "refresh_token", "password" }, discovery.GrantTypesSupported);
        Assert.NotNull(discovery.KeySet);
        Assert.NotEmpty(discovery.KeySet.Keys);
    }
}
