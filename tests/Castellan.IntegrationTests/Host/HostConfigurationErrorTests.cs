using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>Operator mistakes in the host's configuration file are named, never silently dropped.</summary>
public sealed class HostConfigurationErrorTests
{
    [Theory]
    [InlineData("\"AccessTokenLifetime\": \"1h\"", "Castellan:Clients:0:AccessTokenLifetime: '1h' is not a whole number")]
    [InlineData("\"AllowedGrantType\": [ \"client_credentials\" ]", "'AllowedGrantType'")]
    [InlineData("\"AccessTokenType\": \"Opaque\"", "'Opaque'")]
    public void A_bad_value_or_a_misspelt_property_is_an_error_not_a_silent_drop(string entry, string expected)
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "c.json");
        File.WriteAllText(config,
            "{ \"Castellan\": { \"ApiScopes\": [ { \"Name\": \"api1\" } ], \"Clients\": [ { \"ClientId\": \"a\", " +
            "\"ClientSecrets\": [ { \"Value\": \"x\" } ], \"AllowedScopes\": [ \"api1\" ], " + entry + " } ] } }");

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
