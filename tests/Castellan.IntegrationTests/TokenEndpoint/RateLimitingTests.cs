using System.Net;
using System.Threading.RateLimiting;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>The recipe of operations.md: ASP.NET Core's rate limiter on Castellan's endpoints, against secret guessing.</summary>
public sealed class RateLimitingTests
{
    [Fact]
    public async Task Rate_limiter_on_map_castellan_answers_429_once_the_budget_is_spent()
    {
        using var root = new TempDirectory();
        var builder = WebApplication.CreateBuilder(TestApp.Args(root.Path));
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(root.Path, "dp")));
        builder.Services.AddCastellan(o => o.KeyManagement.KeyPath = Path.Combine(root.Path, "keys"))
            .AddInMemoryApiScopes([new ApiScope("api1")])
            .AddInMemoryApiResources([new ApiResource("api1") { Scopes = { "api1" } }])
            .AddInMemoryClients([new Client
            {
                ClientId = "client",
                ClientSecrets = { Secret.FromPlainText("secret") },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
            }]);
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy("castellan", context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 3, Window = TimeSpan.FromMinutes(1) }));
        });
        var app = builder.Build();
        app.UseRateLimiter();
        app.MapCastellan().RequireRateLimiting("castellan");
        await using var server = await TestApp.StartAsync(app);
        using var http = server.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"), new("client_id", "client"), new("client_secret", "guess-" + i),
            ]));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }
}
