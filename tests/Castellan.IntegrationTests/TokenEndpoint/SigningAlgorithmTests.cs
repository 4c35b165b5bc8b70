using System.Net;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// Several signing algorithms at once: each API resource gets tokens in an algorithm it accepts, every key is
/// published, and APIs validate each kind.
/// </summary>
public sealed class SigningAlgorithmTests : TokenServerTest
{
    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root,
            configure: c => c
                .AddInMemoryApiScopes([new ApiScope("ec.read"), new ApiScope("pss.read"), new ApiScope("rsa.read")])
                .AddInMemoryApiResources(
                [
                    new ApiResource("ec-api") { Scopes = { "ec.read" }, AllowedAccessTokenSigningAlgorithms = { "ES256" } },
                    new ApiResource("pss-api") { Scopes = { "pss.read" }, AllowedAccessTokenSigningAlgorithms = { "PS256", "ES256" } },
                    new ApiResource("rsa-api") { Scopes = { "rsa.read" }, AllowedAccessTokenSigningAlgorithms = { "RS256" } },
                ])
                .AddInMemoryClients(
                [
                    new Client
                    {
                        ClientId = "multi",
                        ClientSecrets = { Secret.FromPlainText("secret") },
                        AllowedGrantTypes = { GrantTypes.ClientCredentials },
                        AllowedScopes = { "api1", "ec.read", "pss.read", "rsa.read" },
                    },
                ]),
            options: o => o.KeyManagement.SigningAlgorithms = ["RS256", "PS256", "ES256"]);

    [Theory]
    [InlineData("api1", "RS256", "api1")]
    [InlineData("ec.read", "ES256", "ec-api")]
    [InlineData("pss.read", "PS256", "pss-api")]
    [InlineData("ec.read pss.read", "ES256", "ec-api")]
    public async Task Each_api_gets_a_token_in_an_algorithm_it_accepts(string scope, string algorithm, string audience)
    {
        var token = await TestTokens.GetAccessTokenAsync(Http, "multi", "secret", scope);
        Assert.Equal(algorithm, new JsonWebToken(token).Alg);
        var result = await TestTokens.ValidateAsync(Http, token, Server.BaseAddress, audience);
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task An_unrestricted_api_shares_the_restricted_apis_algorithm()
    {
        // api1 names no algorithm (any of the server's), ec-api insists on ES256: one token serves both.
        var shared = await TestTokens.GetAccessTokenAsync(Http, "multi", "secret", "api1 ec.read");
        Assert.Equal("ES256", new JsonWebToken(shared).Alg);
        Assert.True((await TestTokens.ValidateAsync(Http, shared, Server.BaseAddress, "api1")).IsValid);
    }

    [Fact]
    public async Task Apis_with_no_common_algorithm_cannot_share_a_token()
    {
        using var response = await TestTokens.RequestAsync(Http, "multi", "secret", "rsa.read ec.read");
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Fact]
    public async Task Jwks_publishes_one_key_per_algorithm_and_the_unified_scheme_validates_each()
    {
        var jwks = await TestTokens.GetJwksAsync(Http);
        Assert.Equal(["ES256", "PS256", "RS256"], jwks.Keys.Select(k => k.Alg).Order(StringComparer.Ordinal));

        var builder = WebApplication.CreateBuilder(TestApp.Args(Root.Path));
        builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(o =>
        {
            o.Authority = Server.BaseAddress;
            o.Audiences = ["api1", "ec-api", "pss-api"];
        });
        var app = builder.Build();
        app.MapGet("/data", () => "ok").RequireAuthorization();
        await using var api = await TestApp.StartAsync(app);
        using var http = api.CreateClient();
        foreach (var scope in new[] { "api1", "ec.read", "pss.read" })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", await TestTokens.GetAccessTokenAsync(Http, "multi", "secret", scope));
            using var response = await http.GetAsync("data");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
