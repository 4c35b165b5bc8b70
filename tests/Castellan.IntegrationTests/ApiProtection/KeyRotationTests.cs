using System.Net;
using System.Net.Http.Headers;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Quickstart.Api;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>An API keeps accepting tokens across a key rotation without a restart.</summary>
public sealed class KeyRotationTests
{
    [Theory]
    [InlineData("jwtbearer")]
    [InlineData("unified")]
    public async Task Api_picks_up_a_new_signing_key_by_refreshing_on_the_unknown_kid(string scheme)
    {
        using var root = new TempDirectory();
        // The token service lives 90 days in the past, so its clock can be moved to "now" for the rotation.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-90));
        await using var tokenService = await TokenServer.StartAsync(root, time: clock);
        using var tokenHttp = tokenService.CreateClient();
        await using var api = await TestApp.StartAsync(scheme == "jwtbearer"
            ? ApiApp.Build(TestApp.Args(root.Path, 0, $"--Authority={tokenService.BaseAddress}"))
            : UnifiedApi(root.Path, tokenService.BaseAddress));
        using var apiHttp = api.CreateClient();

        // The API loads the key set with the first key only (the token itself is long expired by the API's clock).
        var oldToken = await TestTokens.GetAccessTokenAsync(tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(apiHttp, oldToken)).StatusCode);

        // 90 days later the first key retires and a new one signs.
        clock.Advance(TimeSpan.FromDays(90));
        var newToken = await TestTokens.GetAccessTokenAsync(tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        Assert.NotEqual(new JsonWebToken(oldToken).Kid, new JsonWebToken(newToken).Kid);

        // The unknown kid makes the API refresh its key set.
        Assert.Equal(HttpStatusCode.OK, await StatusOnceKeysRefreshedAsync(apiHttp, newToken));
    }

    [Fact]
    public async Task A_cached_validation_ends_when_the_token_service_withdraws_the_key()
    {
        // The unified scheme remembers validated JWTs, but only for the key set they were validated against: when
        // the token service's keys change, a token signed by a withdrawn key is refused again, cached or not.
        using var firstRoot = new TempDirectory();
        using var secondRoot = new TempDirectory();
        var port = TestApp.FreePort();
        using var apiRoot = new TempDirectory();
        string oldToken;
        await using var api = await TestApp.StartAsync(UnifiedApi(apiRoot.Path, $"http://127.0.0.1:{port}"));
        using var apiHttp = api.CreateClient();
        await using (var first = await TokenServer.StartAsync(firstRoot, port: port))
        {
            using var http = first.CreateClient();
            oldToken = await TestTokens.GetAccessTokenAsync(http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(apiHttp, oldToken)).StatusCode);
        }

        // Same issuer, new key set (the first key is gone): as after an emergency key replacement.
        await using var second = await TokenServer.StartAsync(secondRoot, port: port);
        using var secondHttp = second.CreateClient();
        var newToken = await TestTokens.GetAccessTokenAsync(secondHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(apiHttp, oldToken)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, await StatusOnceKeysRefreshedAsync(apiHttp, newToken));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(apiHttp, oldToken)).StatusCode);
    }

    private static WebApplication UnifiedApi(string contentRoot, string authority)
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(contentRoot));
        builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(o =>
        {
            o.Authority = authority;
            o.Audiences = ["api1"];
        });
        var app = builder.Build();
        app.MapGet("/identity", () => "ok").RequireScope("api1");
        return app;
    }

    /// <summary>
    /// The API's answer to a token signed by a key it has not seen yet. Its unknown-kid refresh may complete in the
    /// background, so allow a few attempts (a bounded wait, not a timing assertion).
    /// </summary>
    private static async Task<HttpStatusCode> StatusOnceKeysRefreshedAsync(HttpClient apiHttp, string token)
    {
        var status = HttpStatusCode.Unauthorized;
        for (var attempt = 0; attempt < 50 && status != HttpStatusCode.OK; attempt++)
        {
            using var response = await GetAsync(apiHttp, token);
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(100);
            }
        }

        return status;
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "identity");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }
}
