using System.Buffers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Castellan.Tokens;

namespace Castellan.Tests.Configuration;

/// <summary>Client claims keep their JSON types in tokens, and a value that does not fit its type is a startup error.</summary>
public sealed class TypedClaimTests
{
    private static string Written(TokenClaim claim)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            claim.WriteTo(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData(null, "acme", """{"c":"acme"}""")]
    [InlineData(ClaimValueTypes.String, "42", """{"c":"42"}""")]
    [InlineData(ClaimValueTypes.Integer, "007", """{"c":7}""")]
    [InlineData(ClaimValueTypes.Integer64, "-9000000000", """{"c":-9000000000}""")]
    [InlineData(ClaimValueTypes.Double, "0.5", """{"c":0.5}""")]
    [InlineData(ClaimValueTypes.Boolean, "true", """{"c":true}""")]
    [InlineData(ClientClaim.Json, "{ \"country\": \"NL\",\n \"locality\": \"Delft\" }", """{"c":{"country":"NL","locality":"Delft"}}""")]
    [InlineData(ClientClaim.Json, "[1, \"two\"]", """{"c":[1,"two"]}""")]
    public void Each_value_type_is_written_as_its_json_type(string? valueType, string value, string expected)
    {
        var claim = TokenClaim.Create("c", value, valueType, out var error);
        Assert.Null(error);
        Assert.Equal(expected, Written(claim!.Value));
    }

    [Theory]
    [InlineData(ClaimValueTypes.Integer, "3.5")]
    [InlineData(ClaimValueTypes.Integer, "12345678901234567890")]
    [InlineData(ClaimValueTypes.Double, "NaN")]
    [InlineData(ClaimValueTypes.Boolean, "yes")]
    [InlineData(ClaimValueTypes.Boolean, "True")]
    [InlineData(ClientClaim.Json, "{ not json")]
    [InlineData("date", "2026-01-01")]
    public void Value_that_does_not_fit_its_type_is_a_configuration_error(string valueType, string value)
    {
        var configuration = new Castellan.Stores.InMemoryConfiguration();
        configuration.ApiScopes.Add(new ApiScope("api1"));
        configuration.Clients.Add(new Client
        {
            ClientId = "c",
            ClientSecrets = { Secret.FromPlainText("a-long-enough-client-secret") },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
            Claims = { new ClientClaim("level", value, valueType) },
        });
        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);
        Assert.Contains(errors, e => e.Contains("client claim 'client_level'", StringComparison.Ordinal));
    }
}
