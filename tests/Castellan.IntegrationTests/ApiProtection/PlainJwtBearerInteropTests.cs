using System.Net;
using System.Net.Http.Headers;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>Microsoft's JwtBearer configured by hand, as a team would without our package, accepts Castellan's JWTs.</summary>
public sealed class PlainJwtBearerInteropTests
{
    [Fact]
    public async Task Hand_configured_JwtBearer_accepts_castellan_access_tokens()
    {
        using var root = new TempDirectory();
        await using var tokenService = await TokenServer.StartAsync(root);

        var builder = WebApplication.CreateBuilder(TestApp.Args(root.Path));
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.Authority = tokenService.BaseAddress;
            options.Audience = "api1";
            options.RequireHttpsMetadata = false; // loopback test server only
            options.TokenValidationParameters.ValidTypes = ["at+jwt"];
        });
        builder.Services.AddAuthorization();
        var app = builder.Build();
        app.MapGet("/whoami", (HttpContext context) => context.User.FindFirst("client_id")?.Value).RequireAuthorization();
        await using var api = await TestApp.StartAsync(app);

        using var tokenHttp = tokenService.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        using var http = api.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await http.GetAsync("whoami");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TokenServer.ClientId, await response.Content.ReadAsStringAsync());
    }
}
