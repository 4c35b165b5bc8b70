using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// Client claims keep their JSON types: in the JWT, in the introspection answer for a reference token, and when
/// they come from the host's configuration file.
/// </summary>
public sealed class TypedClientClaimTests : TokenServerTest
{
    private static readonly ClientClaim[] Claims =
    [
        new("tenant", "acme"),
        new("level", "3", ClaimValueTypes.Integer),
        new("ratio", "0.25", ClaimValueTypes.Double),
        new("admin", "true", ClaimValueTypes.Boolean),
        new("address", """{ "country": "NL", "locality": "Delft" }""", ClientClaim.Json),
    ];

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => TokenServer.StartAsync(root, c => c.AddInMemoryClients(
    [
        new Client
        {
            ClientId = "typed",
            ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
            Claims = { Claims[0], Claims[1], Claims[2], Claims[3], Claims[4] },
        },
        new Client
        {
            ClientId = "typed-ref",
            ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
            AccessTokenType = AccessTokenType.Reference,
            Claims = { Claims[0], Claims[1], Claims[2], Claims[3], Claims[4] },
        },
    ]));

    private static void AssertTyped(JsonElement payload)
    {
        Assert.Equal(JsonValueKind.String, payload.GetProperty("client_tenant").ValueKind);
        Assert.Equal(3, payload.GetProperty("client_level").GetInt64());
        Assert.Equal(0.25, payload.GetProperty("client_ratio").GetDouble());
        Assert.Equal(JsonValueKind.True, payload.GetProperty("client_admin").ValueKind);
        Assert.Equal("Delft", payload.GetProperty("client_address").GetProperty("locality").GetString());
    }

    [Fact]
    public async Task Jwt_carries_numbers_booleans_and_objects_as_such()
    {
        var token = await TestTokens.GetAccessTokenAsync(Http, "typed", TokenServer.ClientSecret, "api1");
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(new JsonWebToken(token).EncodedPayload));
        AssertTyped(payload.RootElement);
    }

    [Fact]
    public async Task Introspection_of_a_reference_token_returns_the_same_types()
    {
        var token = await TestTokens.GetAccessTokenAsync(Http, "typed-ref", TokenServer.ClientSecret, "api1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect")
        {
            Content = new FormUrlEncodedContent([new("token", token)]),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("api1", TokenServer.Api1Secret));
        using var response = await Http.SendAsync(request);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("active").GetBoolean());
        AssertTyped(json.RootElement);
    }

    [Fact]
    public async Task Host_configuration_takes_value_types_and_refuses_values_that_do_not_fit()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, """
        { "Castellan": {
            "ApiScopes": [ { "Name": "api1" } ],
            "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ],
            "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret" } ],
                           "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ],
                           "Claims": [ { "Type": "level", "Value": "3", "ValueType": "http://www.w3.org/2001/XMLSchema#integer" },
                                       { "Type": "admin", "Value": "yes", "ValueType": "http://www.w3.org/2001/XMLSchema#boolean" } ] } ] } }
        """);
        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)).Services
            .ValidateCastellanConfiguration());
        var error = Assert.Single(ex.Errors);
        Assert.Contains("client claim 'client_admin': value 'yes' is not a valid boolean", error, StringComparison.Ordinal);
    }
}
