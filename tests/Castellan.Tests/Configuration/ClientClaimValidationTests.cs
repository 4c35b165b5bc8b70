using Castellan.Stores;

namespace Castellan.Tests.Configuration;

public sealed class ClientClaimValidationTests
{
    [Fact]
    public void Duplicate_or_reserved_client_claims_are_reported()
    {
        var configuration = new InMemoryConfiguration();
        configuration.ApiScopes.Add(new ApiScope("api1"));
        configuration.Clients.Add(new Client
        {
            ClientId = "c1",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            Claims = { new ClientClaim("role", "a"), new ClientClaim("role", "b") },
        });
        configuration.Clients.Add(new Client
        {
            ClientId = "c2",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            ClientClaimsPrefix = "",
            Claims = { new ClientClaim("sub", "someone-else") },
        });

        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);

        Assert.Contains(errors, e => e.Contains("'client_role' is defined more than once", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("client claim 'sub' is empty or a claim the server sets itself", StringComparison.Ordinal));
    }
}
