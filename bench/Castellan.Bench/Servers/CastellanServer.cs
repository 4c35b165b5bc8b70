using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench.Servers;

/// <summary>Castellan configured as a user would: in-memory clients, the shared RSA key (or a P-256 key for ES256).</summary>
internal static class CastellanServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string keyPem, string issuer, bool es256)
    {
        var castellan = builder.Services.AddCastellan(o => o.IssuerUri = issuer)
            .AddInMemoryApiScopes([new ApiScope(BenchSetup.Scope)])
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
            return Task.CompletedTask;
        };
    }
}
