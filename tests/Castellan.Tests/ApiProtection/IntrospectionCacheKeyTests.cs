using Castellan.ApiProtection;

namespace Castellan.Tests.ApiProtection;

public sealed class IntrospectionCacheKeyTests
{
    [Fact]
    public void Key_prefix_depends_on_authority_and_audience_and_not_on_a_trailing_slash()
    {
        var prefix = CastellanApiState.CacheKeyPrefix("https://login.example.com", "api1");
        Assert.Equal(prefix, CastellanApiState.CacheKeyPrefix("https://login.example.com/", "api1"));
        Assert.NotEqual(prefix, CastellanApiState.CacheKeyPrefix("https://login.example.com", "api2"));
        Assert.NotEqual(prefix, CastellanApiState.CacheKeyPrefix("https://login.example.org", "api1"));
        // Length-prefixed, so moving characters from one value to the other changes the key.
        Assert.NotEqual(CastellanApiState.CacheKeyPrefix("https://a|b", "c"), CastellanApiState.CacheKeyPrefix("https://a", "b|c"));
        Assert.StartsWith("castellan:introspection:", prefix, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_holds_a_hash_of_the_token_never_the_token()
    {
        var state = new CastellanApiState(new CastellanApiOptions { Authority = "https://login.example.com", Audiences = ["api1"] }, requireHttps: true);
        var token = new string('A', 43);
        var key = state.IntrospectionCacheKey(token);

        Assert.StartsWith(CastellanApiState.CacheKeyPrefix("https://login.example.com", "api1"), key, StringComparison.Ordinal);
        Assert.DoesNotContain(token, key, StringComparison.Ordinal);
        Assert.Equal(key, state.IntrospectionCacheKey(token));
        Assert.NotEqual(key, state.IntrospectionCacheKey(new string('B', 43)));
    }
}
