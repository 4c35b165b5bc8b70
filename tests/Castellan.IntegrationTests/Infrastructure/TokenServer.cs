using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>Builds Castellan token servers for tests: a standard configuration that tests can extend.</summary>
public static class TokenServer
{
    public const string ClientId = "client";
    public const string ClientSecret = "secret";

    /// <summary>
    /// API resource <c>api1</c> (scopes api1, api1.other), API resource <c>api2</c> (scope api2), and client
    /// <c>client</c>/<c>secret</c> allowed all three scopes.
    /// </summary>
    public static async Task<TestApp> StartAsync(TempDirectory root, Action<ICastellanBuilder>? configure = null,
        Action<CastellanOptions>? options = null, TimeProvider? time = null, int port = 0)
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(root.Path, port));
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(root.Path, "dp")));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var castellan = builder.Services.AddCastellan(o =>
            {
                o.KeyManagement.KeyPath = Path.Combine(root.Path, "keys");
                options?.Invoke(o);
            })
            .AddInMemoryApiScopes([new ApiScope("api1"), new ApiScope("api1.other"), new ApiScope("api2")])
            .AddInMemoryApiResources(
            [
                new ApiResource("api1") { Scopes = { "api1", "api1.other" } },
                new ApiResource("api2") { Scopes = { "api2" } },
            ])
            .AddInMemoryClients(
            [
                new Client
                {
                    ClientId = ClientId,
                    ClientSecrets = { Secret.FromPlainText(ClientSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1", "api1.other", "api2" },
                    Claims = { new ClientClaim("tenant", "acme") },
                },
            ]);
        configure?.Invoke(castellan);

        var app = builder.Build();
        app.MapCastellan();
        return await TestApp.StartAsync(app);
    }
}
