using Castellan.Resources;

namespace Castellan.Tests.Clients;

public sealed class ScopeParserTests
{
    [Theory]
    [InlineData("api1", new[] { "api1" })]
    [InlineData("api1 api2", new[] { "api1", "api2" })]
    [InlineData("api1 api1 api2", new[] { "api1", "api2" })]
    [InlineData("orders:read https://x.example/y", new[] { "orders:read", "https://x.example/y" })]
    public void Valid_scope_strings_are_split_and_deduplicated(string value, string[] expected)
    {
        var scopes = new List<string>();
        Assert.True(ScopeParser.TryParse(value, scopes));
        Assert.Equal(expected, scopes);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" api1")]
    [InlineData("api1 ")]
    [InlineData("api1  api2")]
    [InlineData("api1\tapi2")]
    [InlineData("a\"b")]
    [InlineData("a\\b")]
    [InlineData("caf\u00e9")]
    [InlineData("a\u0000b")]
    public void Malformed_scope_strings_are_rejected(string value)
        => Assert.False(ScopeParser.TryParse(value, []));
}
