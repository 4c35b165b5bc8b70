using System.Net;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// API registrations that share one <see cref="IDistributedCache"/> (two schemes in one host, or several services
/// on one Redis) never read each other's introspection answers: the key holds the authority and the audience the
/// API introspects as, besides the token's hash.
/// </summary>
public sealed class IntrospectionCacheKeyTests : TokenServerTest, IAsyncLifetime
{
    private readonly ScriptedDistributedCache _cache = new();
    private readonly CountingHandler _first = new();
    private readonly CountingHandler _second = new();

    async Task IAsyncLifetime.DisposeAsync()
    {
        _first.Dispose();
        _second.Dispose();
        await DisposeAsync();
    }

    private async Task<string> ReferenceTokenAsync(TestApp server, string scope)
    {
        using var http = server.CreateClient();
        return await TestTokens.GetAccessTokenAsync(http, TokenServer.ReferenceClientId, TokenServer.ClientSecret, scope);
    }

    [Fact]
    public async Task Two_audiences_sharing_a_cache_each_introspect_and_cache_their_own_answer()
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(Root.Path));
        builder.Services.AddSingleton<IDistributedCache>(_cache);
        builder.Services.AddAuthentication()
            .AddCastellanApi("Api1", o =>
            {
                o.Authority = Server.BaseAddress;
                o.Audiences = ["api1"];
                o.ApiSecret = TokenServer.Api1Secret;
                o.BackchannelHandler = _first;
            })
            .AddCastellanApi("Api2", o =>
            {
                o.Authority = Server.BaseAddress;
                o.Audiences = ["api2"];
                o.ApiSecret = TokenServer.Api2Secret;
                o.BackchannelHandler = _second;
            });
        var app = builder.Build();
        app.MapGet("/one", () => "one").RequireAuthorization(p => p.AddAuthenticationSchemes("Api1").RequireScope("api1"));
        app.MapGet("/two", () => "two").RequireAuthorization(p => p.AddAuthenticationSchemes("Api2").RequireScope("api2"));
        await using var host = await TestApp.StartAsync(app);

        // One token for both APIs: each must ask the token service itself, as its own audience.
        var token = await ReferenceTokenAsync(Server, "api1 api2");
        for (var round = 0; round < 2; round++)
        {
            using var one = await TestApi.CallAsync(host, "one", token);
            using var two = await TestApi.CallAsync(host, "two", token);
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        }

        // One introspection each (the second round came from the cache), under two keys.
        Assert.Equal(1, _first.Introspections);
        Assert.Equal(1, _second.Introspections);
        Assert.Equal(2, _cache.Keys.Count);
        Assert.All(_cache.Keys, key => Assert.DoesNotContain(token, key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_authorities_sharing_a_cache_never_see_each_others_answers()
    {
        using var otherRoot = new TempDirectory();
        await using var otherServer = await TokenServer.StartAsync(otherRoot);
        // Two services on one shared cache, each trusting its own token service, with the same resource name.
        await using var trustsFirst = await TestApi.StartAsync(Root.Path, Server.BaseAddress, o => o.BackchannelHandler = _first,
            services => services.AddSingleton<IDistributedCache>(_cache));
        var otherLogs = new RecordingLoggerProvider();
        await using var trustsOther = await TestApi.StartAsync(otherRoot.Path, otherServer.BaseAddress, o => o.BackchannelHandler = _second,
            services => services.AddSingleton<IDistributedCache>(_cache), otherLogs);

        var token = await ReferenceTokenAsync(Server, "api1");
        using (var accepted = await TestApi.CallAsync(trustsFirst, "data", token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // The other service's token service never issued the token; the first one's cached answer must not count.
        using var refused = await TestApi.CallAsync(trustsOther, "data", token);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(1, _second.Introspections);
        Assert.Single(_cache.Keys);
        // Not even read: the iss check would refuse the first service's answer (event 6004), but the key keeps it
        // out of reach before that.
        Assert.Equal(0, otherLogs.Count(LogLevel.Warning, 6004));
    }
}
