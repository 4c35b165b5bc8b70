using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// Every name under <c>Castellan</c> is a setting and every value fits its type; otherwise check-config (and the
/// server) exit 2 naming each problem with its full path, all at once.
/// </summary>
public sealed class HostSchemaTests
{
    /// <summary>check-config on <paramref name="json"/> as the --config file (none when null), with extra arguments.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> CheckAsync(string? json, params string[] extra)
    {
        using var root = new TempDirectory();
        string[] args = ["check-config", "--contentRoot", root.Path, "--environment", "Development", .. extra];
        if (json is not null)
        {
            var config = Path.Combine(root.Path, "castellan.json");
            await File.WriteAllTextAsync(config, json);
            args = [.. args, "--config", config];
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await HostCommands.RunAsync(args, output, error, new StringReader(""));
        return (code, output.ToString(), error.ToString());
    }

    private const string Valid = """
        "ApiScopes": [ { "Name": "api1" } ],
        "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ],
        "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret" } ],
                       "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ]
        """;

    [Theory]
    [InlineData("\"Client\": []", "Castellan:Client: 'Client' is not a setting of Castellan; did you mean 'Clients'?")]
    [InlineData("\"KeyManagment\": { \"RsaKeySize\": 3072 }", "Castellan:KeyManagment: 'KeyManagment' is not a setting of Castellan; did you mean 'KeyManagement'?")]
    [InlineData("\"IsserUri\": \"https://login.example.com\"", "Castellan:IsserUri: 'IsserUri' is not a setting of Castellan; did you mean 'IssuerUri'?")]
    [InlineData("\"KeyManagement\": { \"RotationIntervall\": \"30.00:00:00\" }", "Castellan:KeyManagement:RotationIntervall: 'RotationIntervall' is not a setting of Castellan:KeyManagement; did you mean 'RotationInterval'?")]
    [InlineData("\"Frobnicate\": true", "Castellan:Frobnicate: 'Frobnicate' is not a setting of Castellan.")]
    public async Task Misspelt_name_is_an_error_with_its_path_and_the_likely_name(string entry, string expected)
    {
        var (code, _, error) = await CheckAsync("{ \"Castellan\": { " + Valid + ", " + entry + " } }");
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misspelt_name_inside_a_client_is_named_by_position()
    {
        var (code, _, error) = await CheckAsync("""
            { "Castellan": { "ApiScopes": [ { "Name": "api1" } ],
              "Clients": [ { "ClientId": "c", "ClientSecret": [ { "Value": "a-long-enough-client-secret" } ],
                             "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ] } }
            """);
        Assert.Equal(2, code);
        Assert.Contains("Castellan:Clients:0:ClientSecret: 'ClientSecret' is not a setting of Castellan:Clients:0; did you mean 'ClientSecrets'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_file_without_a_castellan_section_is_an_error_not_the_demo()
    {
        var (code, output, error) = await CheckAsync("{ \"Castelan\": { " + Valid + " } }");
        Assert.Equal(2, code);
        Assert.Contains("has no 'Castellan' section; 'Castelan' is not one. Did you mean 'Castellan'?", error, StringComparison.Ordinal);
        Assert.DoesNotContain("DEMO", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_values_are_each_one_line_with_key_value_and_format_and_all_are_reported_together()
    {
        var (code, _, error) = await CheckAsync("""
            { "Castellan": {
                "ApiScopes": [ { "Name": "api1" } ],
                "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "Enabled": "yes" } ],
                "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret", "Expiration": "soon" } ],
                               "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ], "AccessTokenType": "Opaque" } ],
                "KeyManagement": { "RotationInterval": "90d", "RsaKeySize": "big" } } }
            """);
        Assert.Equal(2, code);
        Assert.Contains("Castellan:KeyManagement:RotationInterval: '90d' is not a time span: [days.]hours:minutes:seconds", error, StringComparison.Ordinal);
        Assert.Contains("Castellan:KeyManagement:RsaKeySize: 'big' is not a whole number.", error, StringComparison.Ordinal);
        Assert.Contains("Castellan:ApiResources:0:Enabled: 'yes' is not true or false.", error, StringComparison.Ordinal);
        Assert.Contains("Castellan:Clients:0:ClientSecrets:0:Expiration: 'soon' is not a date and time", error, StringComparison.Ordinal);
        Assert.Contains("Castellan:Clients:0:AccessTokenType: 'Opaque' is not one of Jwt, Reference.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("a-long-enough-client-secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Single_value_where_a_list_belongs_is_an_error()
    {
        var (code, _, error) = await CheckAsync("""
            { "Castellan": { "ApiScopes": [ { "Name": "api1" } ],
              "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Value": "a-long-enough-client-secret" } ],
                             "AllowedGrantTypes": "client_credentials", "AllowedScopes": [ "api1" ] } ] } }
            """);
        Assert.Equal(2, code);
        Assert.Contains("Castellan:Clients:0:AllowedGrantTypes: 'client_credentials' is a single value; expected a list.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Environment_style_names_are_checked_too()
    {
        var (code, _, error) = await CheckAsync(null, "--Castellan:KeyManagement:RotationIntervall=1.00:00:00");
        Assert.Equal(2, code);
        Assert.Contains("did you mean 'RotationInterval'?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_names_the_file_line_and_position()
    {
        var (code, _, error) = await CheckAsync("{\n  \"Castellan\": {\n    \"Clients\": [ { \"ClientId\": \"c\" \"Enabled\": true } ]\n  }\n}");
        Assert.Equal(2, code);
        Assert.Contains("castellan.json", error, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON at line 3, position", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_file_with_every_kind_of_setting_passes()
    {
        var (code, output, error) = await CheckAsync("""
            { "Castellan": {
                "IssuerUri": "https://login.example.com",
                "Endpoints": { "Token": "/connect/token" },
                "Discovery": { "ResponseCacheDuration": "00:30:00" },
                "KeyManagement": { "SigningAlgorithms": [ "RS256", "ES256" ], "RotationInterval": "60.00:00:00", "RsaKeySize": 3072, "DataProtectKeys": true },
                "InputLengthRestrictions": { "MaxParameterCount": 16 },
                "RateLimiting": { "PermitLimit": 100, "Window": "00:01:00" },
                "ApiScopes": [ { "Name": "api1", "ShowInDiscoveryDocument": false } ],
                "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "RequireResourceIndicator": true, "AllowedAccessTokenSigningAlgorithms": [ "ES256" ] } ],
                "IdentityResources": [ { "Name": "openid", "Required": true } ],
                "Clients": [ { "ClientId": "c", "Enabled": true, "ClientSecrets": [ { "Value": "a-long-enough-client-secret", "Expiration": "2099-01-01T00:00:00Z", "Description": "main" } ],
                               "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ], "AccessTokenLifetime": 600, "AccessTokenType": "reference",
                               "Claims": [ { "Type": "tenant", "Value": "acme" } ] } ] } }
            """);
        Assert.True(code == 0, error);
        Assert.Contains("valid: 1 clients", output, StringComparison.Ordinal);
    }
}
