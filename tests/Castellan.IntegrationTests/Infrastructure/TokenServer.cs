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
    public const string ReferenceClientId = "ref-client";
    public const string Api1Secret = "api1-secret";
    public const string Api2Secret = "api2-secret";

    /// <summary>
    /// API resource <c>api1</c> (scopes api1, api1.other; ApiSecret <c>api1-secret</c>), API resource <c>api2</c>
    /// (scope api2; ApiSecret <c>api2-secret</c>), client <c>client</c>/<c>secret</c> (JWT access tokens) and client
    /// <c>ref-client</c>/<c>secret</c> (reference access tokens), both allowed all three scopes.
    /// </summary>
    public static async Task<TestApp> StartAsync(TempDirectory root, Action<ICastellanBuilder>? configure = null,
        Action<CastellanOptions>? options = null, TimeProvider? time = null, int port = 0, Action<WebApplication>? map = null)
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
                new ApiResource("api1") { Scopes = { "api1", "api1.other" }, ApiSecrets = { Secret.FromPlainText(Api1Secret) } },
                new ApiResource("api2") { Scopes = { "api2" }, ApiSecrets = { Secret.FromPlainText(Api2Secret) } },
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
                new Client
                {
                    ClientId = ReferenceClientId,
                    ClientSecrets = { Secret.FromPlainText(ClientSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1", "api1.other", "api2" },
                    AccessTokenType = AccessTokenType.Reference,
                    Claims = { new ClientClaim("tenant", "acme") },
                },
            ]);
        configure?.Invoke(castellan);

        var app = builder.Build();
        app.MapCastellan();
        map?.Invoke(app);
        return await TestApp.StartAsync(app);
    }
}
