using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// RFC 8707 <c>resource</c> at the token endpoint (client_credentials). A resource indicator is the name of an
/// API resource, and RFC 8707 §2 wants an absolute URI, so the standard server gets URI-named resources:
/// <c>https://api1.example.com</c> (sharing the scopes of <c>api1</c>), <c>https://api2.example.com</c>,
/// <c>https://orders.example.com</c> (scopes the standard client may not have) and
/// <c>https://payments.example.com</c> (RequireResourceIndicator).
/// </summary>
public sealed class ResourceIndicatorTests : TokenServerTest
{
    private const string Api1Uri = "https://api1.example.com";
    private const string Api2Uri = "https://api2.example.com";
    private const string OrdersUri = "https://orders.example.com";
    private const string PaymentsUri = "https://payments.example.com";
    private const string OrdersClientId = "orders-client";

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, configure: c => c
            .AddInMemoryApiScopes([new ApiScope("orders.read"), new ApiScope("orders.write"), new ApiScope("payments")])
            .AddInMemoryApiResources(
            [
                new ApiResource(Api1Uri) { Scopes = { "api1", "api1.other" } },
                new ApiResource(Api2Uri) { Scopes = { "api2" } },
                new ApiResource(OrdersUri) { Scopes = { "orders.read", "orders.write" } },
                new ApiResource(PaymentsUri) { Scopes = { "payments" }, RequireResourceIndicator = true },
            ])
            .AddInMemoryClients(
            [
                new Client
                {
                    ClientId = OrdersClientId,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "orders.read", "orders.write", "payments" },
                },
            ]));

    private async Task<HttpResponseMessage> RequestAsync(string parameters, string clientId = TokenServer.ClientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic(clientId, TokenServer.ClientSecret));
        request.Content = new StringContent("grant_type=client_credentials" + parameters, Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return await Http.SendAsync(request);
    }

    private static string Resource(string value) => "&resource=" + Uri.EscapeDataString(value);

    /// <summary>Requests a token and returns its aud (as a list) and scope, from the JWT and the response.</summary>
    private async Task<(List<string> Audiences, string Scope)> TokenAsync(string parameters, string clientId = TokenServer.ClientId)
    {
        using var response = await RequestAsync(parameters, clientId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var jwt = new JsonWebToken(json.RootElement.GetProperty("access_token").GetString()!);
        var scope = jwt.GetPayloadValue<string>("scope");
        Assert.Equal(json.RootElement.GetProperty("scope").GetString(), scope);

        // RFC 8707 / RFC 9068: the token must be valid for each audience it names.
        foreach (var audience in jwt.Audiences)
        {
            var validation = await TestTokens.ValidateAsync(Http, jwt.EncodedToken, Server.BaseAddress, audience);
            Assert.True(validation.IsValid, validation.Exception?.ToString());
        }

        return (jwt.Audiences.ToList(), scope);
    }

    private async Task AssertErrorAsync(string parameters, string error, string clientId = TokenServer.ClientId)
    {
        using var response = await RequestAsync(parameters, clientId);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, error);
    }

    [Fact]
    public async Task Without_resource_the_audience_is_every_api_owning_the_scopes()
    {
        var (audiences, scope) = await TokenAsync("&scope=api1");
        Assert.Equal(new[] { "api1", Api1Uri }, audiences.Order(StringComparer.Ordinal));
        Assert.Equal("api1", scope);
    }

    [Fact]
    public async Task Resource_narrows_audience_and_scopes_to_that_api()
    {
        // No scope: every scope the client may have of the named resource (not api2).
        var (audiences, scope) = await TokenAsync(Resource(Api1Uri));
        Assert.Equal(new[] { Api1Uri }, audiences);
        Assert.Equal("api1 api1.other", scope);
    }

    [Fact]
    public async Task Resource_with_a_scope_of_it_narrows_the_audience()
    {
        var (audiences, scope) = await TokenAsync("&scope=api1" + Resource(Api1Uri));
        Assert.Equal(new[] { Api1Uri }, audiences);
        Assert.Equal("api1", scope);
    }

    [Fact]
    public async Task Two_resources_give_two_audiences()
    {
        var (audiences, scope) = await TokenAsync(Resource(Api1Uri) + Resource(Api2Uri));
        Assert.Equal(new[] { Api1Uri, Api2Uri }, audiences.Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "api1", "api1.other", "api2" }, scope.Split(' ').Order(StringComparer.Ordinal));

        var (scoped, scopedScope) = await TokenAsync("&scope=api1%20api2" + Resource(Api1Uri) + Resource(Api2Uri));
        Assert.Equal(new[] { Api1Uri, Api2Uri }, scoped.Order(StringComparer.Ordinal));
        Assert.Equal("api1 api2", scopedScope);
    }

    [Fact]
    public async Task The_same_resource_twice_is_one_audience()
    {
        var (audiences, scope) = await TokenAsync(Resource(Api1Uri) + Resource(Api1Uri));
        Assert.Equal(new[] { Api1Uri }, audiences);
        Assert.Equal("api1 api1.other", scope);
    }

    [Fact]
    public async Task Empty_resource_counts_as_absent()
    {
        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
        var (audiences, _) = await TokenAsync("&scope=api1&resource=");
        Assert.Equal(new[] { "api1", Api1Uri }, audiences.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("api1")]
    [InlineData("api2")]
    public async Task Resource_named_by_a_non_uri_name_is_invalid_target(string name)
    {
        // api1 and api2 exist, but RFC 8707 §2 requires an absolute URI; a bare name is not one.
        await AssertErrorAsync(Resource(name), "invalid_target");
    }

    [Theory]
    [InlineData("https://unknown.example.com")]
    [InlineData("https://api1.example.com/")]
    [InlineData("https://API1.example.com")]
    [InlineData("urn:example:api1")]
    public async Task Unknown_resource_is_invalid_target(string resource)
    {
        // Resources are matched by exact name: no normalisation of case or trailing slash.
        await AssertErrorAsync(Resource(resource), "invalid_target");
    }

    [Fact]
    public async Task Resource_the_client_has_no_scope_of_is_invalid_target()
    {
        await AssertErrorAsync(Resource(OrdersUri), "invalid_target");
        await AssertErrorAsync("&scope=api1" + Resource(OrdersUri), "invalid_target");

        // One allowed and one not allowed: the whole request is refused.
        await AssertErrorAsync(Resource(Api1Uri) + Resource(OrdersUri), "invalid_target");
    }

    [Theory]
    [InlineData("https://api1.example.com#fragment")]
    [InlineData("https://api1.example.com#")]
    [InlineData("/api1")]
    [InlineData("api1/x")]
    [InlineData("//api1.example.com")]
    [InlineData("../api1")]
    [InlineData("file:///etc/passwd")]
    [InlineData("https://")]
    [InlineData(" https://api1.example.com")]
    public async Task Resource_that_is_not_an_absolute_uri_without_fragment_is_invalid_target(string resource)
    {
        await AssertErrorAsync(Resource(resource), "invalid_target");
    }

    [Fact]
    public async Task Overlong_resource_is_invalid_target()
    {
        await AssertErrorAsync(Resource("https://api1.example.com/" + new string('a', 3000)), "invalid_target");
    }

    [Fact]
    public async Task Scope_outside_the_named_resources_is_invalid_scope()
    {
        // The client may have api2, but not in a token narrowed to api1: the scope does not belong to any named
        // resource (docs/resource-indicators.md). The server refuses rather than silently dropping the scope.
        await AssertErrorAsync("&scope=api2" + Resource(Api1Uri), "invalid_scope");
        await AssertErrorAsync("&scope=api1%20api2" + Resource(Api1Uri), "invalid_scope");
    }

    [Fact]
    public async Task Resource_is_honoured_for_reference_tokens()
    {
        using var response = await RequestAsync(Resource(Api2Uri), TokenServer.ReferenceClientId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("api2", json.RootElement.GetProperty("scope").GetString());

        // Introspected by its owner: aud is the named resource only.
        using var introspect = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        introspect.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic(TokenServer.ReferenceClientId, TokenServer.ClientSecret));
        introspect.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = json.RootElement.GetProperty("access_token").GetString()! });
        using var answer = await Http.SendAsync(introspect);
        using var claims = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.True(claims.RootElement.GetProperty("active").GetBoolean());
        Assert.Equal(Api2Uri, claims.RootElement.GetProperty("aud").GetString());
    }

    // RequireResourceIndicator.

    [Fact]
    public async Task Api_requiring_a_resource_indicator_is_an_audience_when_named()
    {
        var (audiences, scope) = await TokenAsync(Resource(PaymentsUri), OrdersClientId);
        Assert.Equal(new[] { PaymentsUri }, audiences);
        Assert.Equal("payments", scope);
    }

    [Fact]
    public async Task Scopes_of_an_api_requiring_a_resource_indicator_are_left_out_of_the_defaults()
    {
        // No scope, no resource: every allowed scope except those only the payments API owns, which is not named.
        var (audiences, scope) = await TokenAsync("", OrdersClientId);
        Assert.Equal(new[] { OrdersUri }, audiences);
        Assert.Equal(new[] { "orders.read", "orders.write" }, scope.Split(' ').Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("&scope=payments")]
    [InlineData("&scope=orders.read%20payments")]
    public async Task Asking_for_a_scope_of_an_api_requiring_a_resource_indicator_without_naming_it_is_invalid_target(string parameters)
    {
        // A token carrying "payments" for some other audience would be useless to the payments API, or worse, usable
        // wherever that audience is accepted: refuse, and tell the client what is missing (RFC 8707 §2, "missing").
        using var response = await RequestAsync(parameters, OrdersClientId);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_target");
    }
}
