using System.Net;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// The introspection cache is an optimisation, never a dependency: a cache that throws (Redis down) or holds a
/// corrupt entry is a miss, logged as a warning once per failure, and the token is introspected as usual.
/// </summary>
public sealed class IntrospectionCacheFailureTests : TokenServerTest, IAsyncLifetime
{
    private const int CacheReadFailed = 6003;
    private const int CacheEntryInvalid = 6004;
    private const int CacheWriteFailed = 6005;

    private readonly RecordingLoggerProvider _logs = new();
    private readonly CountingHandler _backchannel = new();

    async Task IAsyncLifetime.DisposeAsync()
    {
        _backchannel.Dispose();
        await DisposeAsync();
    }

    private Task<TestApp> StartApiAsync(IDistributedCache cache)
        => TestApi.StartAsync(Root.Path, Server.BaseAddress, o => o.BackchannelHandler = _backchannel,
            services => services.AddSingleton(cache), _logs);

    private Task<string> ReferenceTokenAsync()
        => TestTokens.GetAccessTokenAsync(Http, TokenServer.ReferenceClientId, TokenServer.ClientSecret, "api1");

    private static async Task AssertAcceptedAsync(TestApp api, string token)
    {
        using var response = await TestApi.CallAsync(api, "data", token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {response.Headers.WwwAuthenticate}");
        // The principal comes from the token service's answer, not from anything the cache held.
        Assert.Equal(TokenServer.ReferenceClientId, body);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Failing_cache_is_a_miss_and_the_request_succeeds(bool failReads, bool failWrites)
    {
        var cache = new ScriptedDistributedCache { FailReads = failReads, FailWrites = failWrites };
        await using var api = await StartApiAsync(cache);
        var token = await ReferenceTokenAsync();

        await AssertAcceptedAsync(api, token);
        await AssertAcceptedAsync(api, token);

        // A cache that can be written but not read, or not written at all, saves nothing: every request introspects.
        Assert.Equal(2, _backchannel.Introspections);
        Assert.Equal(failReads ? 2 : 0, _logs.Count(LogLevel.Warning, CacheReadFailed));
        Assert.Equal(failWrites ? 2 : 0, _logs.Count(LogLevel.Warning, CacheWriteFailed));
        Assert.Equal(0, _logs.Count(LogLevel.Warning, CacheEntryInvalid));
    }

    [Fact]
    public async Task Working_cache_saves_the_second_round_trip()
    {
        // The control for the tests around it: the same setup with a cache that works.
        var cache = new ScriptedDistributedCache();
        await using var api = await StartApiAsync(cache);
        var token = await ReferenceTokenAsync();

        await AssertAcceptedAsync(api, token);
        await AssertAcceptedAsync(api, token);

        Assert.Equal(1, _backchannel.Introspections);
        Assert.Equal(1, cache.Writes);
    }

    public static TheoryData<byte[]> CorruptEntries => new()
    {
        Encoding.UTF8.GetBytes("not json"),
        Encoding.UTF8.GetBytes("{\"active\":true"),
        Array.Empty<byte>(),
        new byte[] { 0xFF, 0xFE, 0x00, 0x7B },
        Encoding.UTF8.GetBytes("null"),
        Encoding.UTF8.GetBytes("[{\"active\":true}]"),
        Encoding.UTF8.GetBytes("\"active\""),
        Encoding.UTF8.GetBytes("{\"active\":false,\"client_id\":\"forged\"}"),
        Encoding.UTF8.GetBytes("{\"active\":\"true\",\"aud\":\"api1\",\"scope\":\"api1\",\"client_id\":\"forged\"}"),
        Encoding.UTF8.GetBytes("{\"active\":true}"),
        // Active and for api1, but without the issuer, or from another one.
        Encoding.UTF8.GetBytes("{\"active\":true,\"aud\":\"api1\",\"scope\":\"api1\",\"client_id\":\"forged\"}"),
        Encoding.UTF8.GetBytes("{\"active\":true,\"iss\":\"https://elsewhere.example\",\"aud\":\"api1\",\"scope\":\"api1\",\"client_id\":\"forged\"}"),
        Encoding.UTF8.GetBytes("{\"active\":true,\"iss\":42,\"aud\":\"api1\",\"scope\":\"api1\",\"client_id\":\"forged\"}"),
    };

    [Theory]
    [MemberData(nameof(CorruptEntries))]
    public async Task Corrupt_cache_entry_is_a_miss_and_the_token_is_introspected(byte[] entry)
    {
        var cache = new ScriptedDistributedCache { ReadAnswer = entry };
        await using var api = await StartApiAsync(cache);

        await AssertAcceptedAsync(api, await ReferenceTokenAsync());

        Assert.Equal(1, _backchannel.Introspections);
        // The empty entry reads as an empty string, which is as corrupt as the rest.
        Assert.Equal(1, _logs.Count(LogLevel.Warning, CacheEntryInvalid));
        // The real answer replaces the corrupt one.
        Assert.Equal(1, cache.Writes);
    }

    [Fact]
    public async Task Corrupt_cache_entry_does_not_make_an_unknown_token_valid()
    {
        // The entry claims the token is active for api1; the token service has never heard of it.
        var forged = Encoding.UTF8.GetBytes("{\"active\":true,\"aud\":\"api1\",\"scope\":\"api1\",\"client_id\":\"forged\"}");
        await using var api = await StartApiAsync(new ScriptedDistributedCache { ReadAnswer = forged });

        using var response = await TestApi.CallAsync(api, "data", Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(new byte[32]));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, _backchannel.Introspections);
    }
}
