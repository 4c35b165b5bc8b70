using System.Net;
using System.Runtime.CompilerServices;
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
    public async Task Local_api_refuses_hostile_and_forged_tokens_with_401_never_500()
    {
        using var root = new TempDirectory();
        await using var server = await StartAsync(root, out _);
        using var http = server.CreateClient();
        var valid = await TestTokens.GetAccessTokenAsync(http, "admin", "s", "users.manage");
        var parts = valid.Split('.');
        var flipped = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[2]);
        flipped[0] ^= 1;

        string[] hostile =
        [
            "Bearer ", "Bearer a.b.c", "Bearer ....", "Bearer " + new string('x', 20_000), "Bearer %00%0d%0a",
            "Bearer eyJhbGciOiJub25lIn0." + parts[1] + ".",
            "Bearer " + parts[0] + "." + parts[1] + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(flipped),
            "Bearer " + valid + " extra", "Basic " + valid, "bearer",
        ];
        foreach (var header in hostile)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "users");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{header[..Math.Min(40, header.Length)]}: {(int)response.StatusCode}");
        }

        using var ok = new HttpRequestMessage(HttpMethod.Get, "users");
        ok.Headers.TryAddWithoutValidation("Authorization", "Bearer " + valid);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(ok)).StatusCode);
    }

    [Fact]
    public async Task Local_api_refuses_tokens_of_a_client_disabled_after_issuance()
    {
        using var root = new TempDirectory();
        await using var server = await StartAsync(root, out _);
        using var http = server.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(http, "admin", "s", "users.manage");
        async Task<HttpStatusCode> CallAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "users");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync());
        // The in-memory store holds the configured instances: disabling one is a live change.
        var admin = await server.Services.GetRequiredService<Castellan.Stores.IClientStore>().FindClientByIdAsync("admin", default);
        admin!.Enabled = false;
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync());
    }

    private static Task<TestApp> StartAsync(TempDirectory root, out Func<int> selfCalls)
    {
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
        var counter = new StrongBox<int>();
        selfCalls = () => Volatile.Read(ref counter.Value);
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/.well-known") || context.Request.Path.StartsWithSegments("/connect/introspect"))
            {
                Interlocked.Increment(ref counter.Value);
            }

            return next(context);
        });
        app.MapCastellan();
        app.MapGet("/users", (HttpContext context) => context.User.FindFirst("client_id")?.Value)
            .RequireAuthorization(p => p.AddAuthenticationSchemes(LocalApiAuthenticationExtensions.DefaultScheme).RequireAuthenticatedUser());
        return TestApp.StartAsync(app);
    }

    [Fact]
    public async Task Local_api_accepts_jwt_and_reference_tokens_without_calling_its_own_endpoints()
    {
        using var root = new TempDirectory();
        await using var server = await StartAsync(root, out var selfCalls);
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

        Assert.Equal(0, selfCalls());

        var otherAudience = await TestTokens.GetAccessTokenAsync(http, "admin", "s", "api2");
        using var refused = new HttpRequestMessage(HttpMethod.Get, "users");
        refused.Headers.TryAddWithoutValidation("Authorization", "Bearer " + otherAudience);
        using var refusedResponse = await http.SendAsync(refused);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedResponse.StatusCode);

        using var anonymous = await http.GetAsync("users");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
