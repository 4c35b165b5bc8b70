using System.Net;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>An API hosted inside the token service validates tokens in-process, with no HTTP call to itself.</summary>
public sealed class LocalApiTests
{
    [Fact]
    public async Task Local_api_accepts_jwt_and_reference_tokens_without_calling_its_own_endpoints()
    {
        using var root = new TempDirectory();
        var builder = WebApplication.CreateBuilder(TestApp.Args(root.Path));
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(root.Path, "dp")));
        builder.Services.AddCastellan(o => o.KeyManagement.KeyPath = Path.Combine(root.Path, "keys"))
            .AddInMemoryApiScopes([new ApiScope("users.manage"), new ApiScope("api2")])
            .AddInMemoryApiResources([new ApiResource("users") { Scopes = { "users.manage" } }, new ApiResource("api2") { Scopes = { "api2" } }])
            .AddInMemoryClients(
            [
                new Client { ClientId = "admin", ClientSecrets = { Secret.FromPlainText("s") }, AllowedGrantTypes = { GrantTypes.ClientCredentials }, AllowedScopes = { "users.manage", "api2" } },
                new Client { ClientId = "admin-ref", ClientSecrets = { Secret.FromPlainText("s") }, AllowedGrantTypes = { GrantTypes.ClientCredentials }, AllowedScopes = { "users.manage" }, AccessTokenType = AccessTokenType.Reference },
            ])
            .AddLocalApiAuthentication("users");
        builder.Services.AddAuthorization();
        var app = builder.Build();
        var selfCalls = 0;
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/.well-known") || context.Request.Path.StartsWithSegments("/connect/introspect"))
            {
                Interlocked.Increment(ref selfCalls);
            }

            return next(context);
        });
        app.MapCastellan();
        app.MapGet("/users", (HttpContext context) => context.User.FindFirst("client_id")?.Value)
            .RequireAuthorization(p => p.AddAuthenticationSchemes(LocalApiAuthenticationExtensions.DefaultScheme).RequireAuthenticatedUser());
        await using var server = await TestApp.StartAsync(app);
        using var http = server.CreateClient();

        foreach (var client in new[] { "admin", "admin-ref" })
        {
            var token = await TestTokens.GetAccessTokenAsync(http, client, "s", "users.manage");
            using var request = new HttpRequestMessage(HttpMethod.Get, "users");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(client, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, selfCalls);

        var otherAudience = await TestTokens.GetAccessTokenAsync(http, "admin", "s", "api2");
        using var refused = new HttpRequestMessage(HttpMethod.Get, "users");
        refused.Headers.TryAddWithoutValidation("Authorization", "Bearer " + otherAudience);
        using var refusedResponse = await http.SendAsync(refused);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedResponse.StatusCode);

        using var anonymous = await http.GetAsync("users");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
