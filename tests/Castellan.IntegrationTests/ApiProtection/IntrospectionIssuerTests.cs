using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// An introspection answer counts only when its <c>iss</c> is the discovery document's issuer, as a JWT's must be
/// (RFC 9068 §4). Against a fake token service on Kestrel that serves discovery and whatever answer the test forges.
/// </summary>
public sealed class IntrospectionIssuerTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly CountingHandler _backchannel = new();
    private TestApp _fake = null!;
    private TestApp _api = null!;

    /// <summary>The introspection answer, given the fake's own issuer.</summary>
    private Func<string, object> _answer = _ => new { active = false };

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) =>
        {
            var issuer = Issuer(context);
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = issuer,
                ["jwks_uri"] = issuer + "/jwks",
                ["introspection_endpoint"] = issuer + "/connect/introspect",
            });
        });
        app.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        app.MapPost("/connect/introspect", (HttpContext context) => Results.Json(_answer(Issuer(context))));
        _fake = await TestApp.StartAsync(app);
        _api = await TestApi.StartAsync(_root.Path, _fake.BaseAddress, o => o.BackchannelHandler = _backchannel);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _fake.DisposeAsync();
        _backchannel.Dispose();
        _root.Dispose();
    }

    private static string Issuer(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";

    private static string Handle() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static Dictionary<string, object> Active(object? iss)
    {
        var answer = new Dictionary<string, object>
        {
            ["active"] = true,
            ["token_type"] = "Bearer",
            ["aud"] = "api1",
            ["scope"] = "api1",
            ["client_id"] = "forged",
            ["sub"] = "forged",
            ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        };
        if (iss is not null)
        {
            answer["iss"] = iss;
        }

        return answer;
    }

    [Fact]
    public async Task Answer_with_the_discovery_issuer_is_accepted()
    {
        // The control: the fake is a faithful token service here, so the refusals below are about iss alone.
        _answer = issuer => Active(issuer);
        using var response = await TestApi.CallAsync(_api, "data", Handle());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("forged", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("other")]
    [InlineData("trailing-slash")]
    [InlineData("case")]
    [InlineData("number")]
    [InlineData("array")]
    [InlineData("null")]
    public async Task Answer_without_the_discovery_issuer_is_inactive(string variant)
    {
        _answer = issuer => Active(variant switch
        {
            "missing" => null,
            "other" => "https://login.example.com",
            "trailing-slash" => issuer + "/",
            "case" => issuer.ToUpperInvariant(),
            "number" => 42,
            "array" => new[] { issuer },
            _ => JsonDocument.Parse("null").RootElement,
        });

        using var response = await TestApi.CallAsync(_api, "data", Handle());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, _backchannel.Introspections);
    }

    [Fact]
    public async Task Refused_answer_is_not_cached()
    {
        var token = Handle();
        _answer = _ => Active("https://login.example.com");
        using (var refused = await TestApi.CallAsync(_api, "data", token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var again = await TestApi.CallAsync(_api, "data", token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        }

        Assert.Equal(2, _backchannel.Introspections);
    }
}
