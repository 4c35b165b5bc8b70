using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
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
    public static Task<TestApp> StartAsync(TempDirectory root, Action<ICastellanBuilder>? configure = null,
        Action<CastellanOptions>? options = null, TimeProvider? time = null, int port = 0, Action<WebApplication>? map = null)
        => TestApp.StartAsync(Build(root, configure, options, time, port, map));

    /// <summary>
    /// The standard server with mutual TLS on (RFC 8705), as docs/mtls.md sets it up: the issuer on plain http (the
    /// returned app's <see cref="TestApp.BaseAddress"/>) and the §5 aliases on https at <c>Alias</c>, whose TLS uses
    /// <paramref name="serverCertificate"/> and asks for a client certificate, letting any through for Castellan to judge.
    /// </summary>
    public static async Task<(TestApp Server, string Alias)> StartWithMutualTlsAsync(TempDirectory root, X509Certificate2 serverCertificate,
        Action<ICastellanBuilder>? configure = null)
    {
        var issuerPort = TestApp.FreePort();
        var aliasPort = TestApp.FreePort();
        var issuer = $"http://127.0.0.1:{issuerPort}";
        var alias = $"https://127.0.0.1:{aliasPort}";
        var app = Build(root, configure, o =>
        {
            o.IssuerUri = issuer;
            o.MutualTls.Enabled = true;
            o.MutualTls.EndpointBaseUrl = alias;
        }, kestrel: kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, issuerPort);
            kestrel.Listen(IPAddress.Loopback, aliasPort, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = serverCertificate;
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }));
        });
        return (await TestApp.StartAsync(app, issuer), alias);
    }

    private static WebApplication Build(TempDirectory root, Action<ICastellanBuilder>? configure = null, Action<CastellanOptions>? options = null,
        TimeProvider? time = null, int port = 0, Action<WebApplication>? map = null, Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? kestrel = null)
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(root.Path, port));
        if (kestrel is not null)
        {
            builder.WebHost.ConfigureKestrel(kestrel);
        }

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
        return app;
    }
}
