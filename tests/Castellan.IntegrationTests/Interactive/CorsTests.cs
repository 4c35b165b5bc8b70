using System.Net;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>CORS: clients' origins for token, userinfo and revocation; anyone for discovery and JWKS; nobody for authorize.</summary>
public sealed class CorsTests : TokenServerTest
{
    private const string SpaOrigin = "https://spa.example";

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, c =>
    {
        if (c.ClientId == InteractiveServer.SpaClientId)
        {
            c.AllowedCorsOrigins.Add(SpaOrigin);
        }
    });

    private async Task<HttpResponseMessage> PreflightAsync(string path, string origin, string method = "POST")
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return await Http.SendAsync(request);
    }

    [Theory]
    [InlineData("connect/token")]
    [InlineData("connect/userinfo")]
    [InlineData("connect/revocation")]
    public async Task Registered_origin_gets_a_preflight_grant(string path)
    {
        using var response = await PreflightAsync(path, SpaOrigin);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(SpaOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Content-Type", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://spa.example.evil.example")]
    [InlineData("http://spa.example")]
    [InlineData("null")]
    public async Task Other_origins_get_no_grant(string origin)
    {
        using var response = await PreflightAsync("connect/token", origin);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Token_response_to_a_registered_origin_carries_the_header()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("client_id", InteractiveServer.SpaClientId), new("code", "x")]),
        };
        request.Headers.Add("Origin", SpaOrigin);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SpaOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Origin", response.Headers.Vary);
    }

    [Fact]
    public async Task Discovery_and_jwks_are_open_to_any_origin()
    {
        foreach (var path in new[] { ".well-known/openid-configuration", ".well-known/openid-configuration/jwks" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Origin", "https://anyone.example");
            using var response = await Http.SendAsync(request);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
    }

    [Fact]
    public async Task Authorize_endpoint_never_answers_cross_origin()
    {
        using var preflight = await PreflightAsync("connect/authorize", SpaOrigin, "GET");
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));

        using var request = new HttpRequestMessage(HttpMethod.Get, new AuthorizeRequestBuilder(Server).Url(InteractiveServer.SpaClientId, "openid", "https://spa.example/callback"));
        request.Headers.Add("Origin", SpaOrigin);
        using var response = await Http.SendAsync(request);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
