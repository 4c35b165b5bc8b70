using Castellan;

namespace Quickstart.TokenService;

/// <summary>The token service of the quickstart: one API scope, one API, one machine-to-machine client.</summary>
public static class TokenServiceApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Services.AddCastellan(options => builder.Configuration.GetSection("Castellan").Bind(options))
            .AddInMemoryApiScopes([new ApiScope("api1", "My API")])
            .AddInMemoryApiResources([new ApiResource("api1", "My API") { Scopes = { "api1" } }])
            .AddInMemoryClients(
            [
                new Client
                {
                    ClientId = "client",
                    // Only the SHA-256 hash of the secret is kept.
                    ClientSecrets = { Secret.FromPlainText("secret") },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
            ]);

        var app = builder.Build();
        app.MapCastellan();
        return app;
    }
}
