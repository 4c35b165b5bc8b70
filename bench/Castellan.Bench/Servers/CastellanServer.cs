using System.Security.Cryptography;
using Castellan.Storage.EntityFramework;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench.Servers;

/// <summary>
/// Castellan configured as a user would: in-memory clients, the shared RSA key (or a P-256 key for ES256). Besides
/// the client-credentials clients it has a user-flow client (code with PKCE, rotated refresh tokens) and one test
/// user, for the code and refresh variants, whose grants are seeded through <see cref="CastellanGrantPool"/>. With
/// a <see cref="BenchStorage"/> the same clients, scopes and resources live in the database instead (the EF
/// configuration store, nothing in code), and so do the grants; the signing key stays the shared one.
/// </summary>
internal static class CastellanServer
{
    private static readonly ApiScope[] ApiScopes = [new ApiScope(BenchSetup.Scope)];

    private static readonly IdentityResource[] IdentityResources = [IdentityResource.OpenId()];

    private static readonly ApiResource[] ApiResources =
        [new ApiResource(BenchSetup.Audience) { Scopes = { BenchSetup.Scope }, ApiSecrets = { Secret.FromPlainText(BenchSetup.ApiSecret) } }];

    private static readonly Client[] Clients =
    [
        new Client
        {
            ClientId = BenchSetup.ClientId,
            ClientSecrets = { Secret.FromPlainText(BenchSetup.ClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { BenchSetup.Scope },
        },
        new Client
        {
            ClientId = BenchSetup.ReferenceClientId,
            ClientSecrets = { Secret.FromPlainText(BenchSetup.ClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { BenchSetup.Scope },
            AccessTokenType = AccessTokenType.Reference,
        },
        CastellanGrantPool.WebClient,
    ];

    /// <param name="dpop">DPoP proofs on every request: the replay cache holds each proof's jti for a minute, so it is
    /// given room for a minute of this machine's rate (an operator sizes <see cref="Castellan.Security.ReplayCacheOptions.MaxEntries"/> the same way).</param>
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string keyPem, string issuer, bool es256, BenchStorage? storage = null, bool dpop = false)
    {
        if (dpop)
        {
            builder.Services.Configure<Castellan.Security.ReplayCacheOptions>(o => o.MaxEntries = 2_000_000);
        }

        var castellan = builder.Services.AddCastellan(o => o.IssuerUri = issuer)
            .AddTestUsers([new TestUser { SubjectId = BenchSetup.SubjectId, Username = BenchSetup.SubjectId, Password = BenchSetup.SubjectId }]);
        if (storage is null)
        {
            castellan.AddInMemoryApiScopes(ApiScopes)
                .AddInMemoryIdentityResources(IdentityResources)
                .AddInMemoryApiResources(ApiResources)
                .AddInMemoryClients(Clients);
        }
        else
        {
            castellan.AddEntityFrameworkStores(store =>
            {
                store.Provider = storage.Provider;
                store.ConnectionString = storage.ConnectionString;

                // Applied explicitly below, before the configuration rows are written and the server starts.
                store.MigrateOnStartup = false;

                // The signing key is the shared static one, as in every variant, so signatures cost the same. Nothing
                // on the measured paths uses Data Protection.
                store.StoreSigningKeys = false;
                store.StoreDataProtectionKeys = false;
            });
        }

        if (es256)
        {
            castellan.AddSigningCredential(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "bench-ec" }, "ES256");
        }
        else
        {
            castellan.AddSigningCredential(BenchSetup.RsaKey(keyPem), "RS256");
        }

        return async app =>
        {
            if (storage is not null)
            {
                await WriteConfigurationAsync(app.Services);
            }

            app.MapCastellan();
            app.MapPost("/bench/seed", CastellanGrantPool.SeedAsync);
        };
    }

    /// <summary>Migrates the variant's empty database and writes the clients, scopes and resources into it, before Castellan first reads them.</summary>
    private static async Task WriteConfigurationAsync(IServiceProvider services)
    {
        await services.GetRequiredService<CastellanDatabase>().MigrateAsync(CancellationToken.None);
        var configuration = services.GetRequiredService<EntityFrameworkConfigurationStore>();
        foreach (var scope in ApiScopes)
        {
            await configuration.SaveApiScopeAsync(scope, CancellationToken.None);
        }

        foreach (var resource in IdentityResources)
        {
            await configuration.SaveIdentityResourceAsync(resource, CancellationToken.None);
        }

        foreach (var resource in ApiResources)
        {
            await configuration.SaveApiResourceAsync(resource, CancellationToken.None);
        }

        foreach (var client in Clients)
        {
            await configuration.SaveClientAsync(client, CancellationToken.None);
        }
    }
}
