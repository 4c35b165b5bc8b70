using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench.Servers;

/// <summary>
/// Castellan configured as a user would: in-memory clients, the shared RSA key (or a P-256 key for ES256). Besides
/// the client-credentials clients it has a user-flow client (code with PKCE, rotated refresh tokens) and one test
/// user, for the code and refresh variants, whose grants are seeded through <see cref="CastellanGrantPool"/>.
/// </summary>
internal static class CastellanServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string keyPem, string issuer, bool es256)
    {
        var castellan = builder.Services.AddCastellan(o => o.IssuerUri = issuer)
            .AddInMemoryApiScopes([new ApiScope(BenchSetup.Scope)])
            .AddInMemoryIdentityResources([IdentityResource.OpenId()])
            .AddTestUsers([new TestUser { SubjectId = BenchSetup.SubjectId, Username = BenchSetup.SubjectId, Password = BenchSetup.SubjectId }])
            .AddInMemoryApiResources([new ApiResource(BenchSetup.Audience) { Scopes = { BenchSetup.Scope }, ApiSecrets = { Secret.FromPlainText(BenchSetup.ApiSecret) } }])
            .AddInMemoryClients(
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
            ]);

        if (es256)
        {
            castellan.AddSigningCredential(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "bench-ec" }, "ES256");
        }
        else
        {
            castellan.AddSigningCredential(BenchSetup.RsaKey(keyPem), "RS256");
        }

        return app =>
        {
            app.MapCastellan();
            app.MapPost("/bench/seed", CastellanGrantPool.SeedAsync);
            return Task.CompletedTask;
        };
    }
}
