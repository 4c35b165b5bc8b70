using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// One scheme (<c>AddCastellanApi</c>) for JWTs and reference tokens, against a real token service on loopback.
/// </summary>
public sealed class UnifiedSchemeTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private TestApp _tokenService = null!;
    private HttpClient _tokenHttp = null!;

    public async Task InitializeAsync()
    {
        _tokenService = await TokenServer.StartAsync(_root);
        _tokenHttp = _tokenService.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _tokenHttp.Dispose();
        await _tokenService.DisposeAsync();
        _root.Dispose();
    }

    private Task<TestApp> StartApiAsync(Action<CastellanApiOptions>? configure = null, Action<IServiceCollection>? services = null)
        => TestApi.StartAsync(_root.Path, _tokenService.BaseAddress, configure, services,
            map: app => app.MapGet("/all", () => "ok").RequireAuthorization(policy => policy.RequireAllScopes("api1", "api1.other")));

    private static Task<HttpResponseMessage> CallAsync(TestApp api, string path, string? token) => TestApi.CallAsync(api, path, token);

    private Task<string> TokenAsync(string clientId, string scope = "api1")
        => TestTokens.GetAccessTokenAsync(_tokenHttp, clientId, TokenServer.ClientSecret, scope);

    private async Task RevokeAsync(string token, string clientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/revocation")
        {
            Content = new FormUrlEncodedContent([new("token", token), new("client_id", clientId), new("client_secret", TokenServer.ClientSecret)]),
        };
        using var response = await _tokenHttp.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Same_api_accepts_a_reference_token_and_a_jwt()
    {
        await using var api = await StartApiAsync();
        var reference = await TokenAsync(TokenServer.ReferenceClientId);
        var jwt = await TokenAsync(TokenServer.ClientId);
        Assert.DoesNotContain('.', reference);
        Assert.Equal(2, jwt.Count(c => c == '.'));

        using var byReference = await CallAsync(api, "data", reference);
        using var byJwt = await CallAsync(api, "data", jwt);
        Assert.Equal(HttpStatusCode.OK, byReference.StatusCode);
        Assert.Equal(TokenServer.ReferenceClientId, await byReference.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, byJwt.StatusCode);
        Assert.Equal(TokenServer.ClientId, await byJwt.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Revoked_reference_token_is_refused_at_once_when_caching_is_off()
    {
        await using var api = await StartApiAsync(o => o.IntrospectionCacheDuration = TimeSpan.Zero);
        var reference = await TokenAsync(TokenServer.ReferenceClientId);
        using (var before = await CallAsync(api, "data", reference))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await RevokeAsync(reference, TokenServer.ReferenceClientId);

        using var after = await CallAsync(api, "data", reference);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("error=\"invalid_token\"", after.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoked_reference_token_is_refused_once_the_cache_entry_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new FakeClockDistributedCache(clock);
        await using var api = await StartApiAsync(o => o.IntrospectionCacheDuration = TimeSpan.FromMinutes(5), services =>
        {
            services.AddSingleton<IDistributedCache>(cache);
            services.AddSingleton<TimeProvider>(clock);
        });
        var reference = await TokenAsync(TokenServer.ReferenceClientId);
        using (var first = await CallAsync(api, "data", reference))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The cache key is a hash of the token, never the token itself.
        var key = Assert.Single(cache.Keys);
        Assert.DoesNotContain(reference, key, StringComparison.Ordinal);

        await RevokeAsync(reference, TokenServer.ReferenceClientId);
        using (var cached = await CallAsync(api, "data", reference))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }

        clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        using var expired = await CallAsync(api, "data", reference);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task Missing_scope_gets_403_with_insufficient_scope_challenge()
    {
        await using var api = await StartApiAsync();
        foreach (var client in new[] { TokenServer.ClientId, TokenServer.ReferenceClientId })
        {
            using var response = await CallAsync(api, "data", await TokenAsync(client, "api1.other"));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var challenge = response.Headers.WwwAuthenticate.ToString();
            Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
            Assert.Contains("scope=\"api1\"", challenge, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task All_of_scopes_needs_every_scope_and_accepts_the_space_delimited_form()
    {
        await using var api = await StartApiAsync();
        using var one = await CallAsync(api, "all", await TokenAsync(TokenServer.ClientId, "api1"));
        using var both = await CallAsync(api, "all", await TokenAsync(TokenServer.ClientId, "api1 api1.other"));
        using var bothByReference = await CallAsync(api, "all", await TokenAsync(TokenServer.ReferenceClientId, "api1 api1.other"));
        Assert.Equal(HttpStatusCode.Forbidden, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bothByReference.StatusCode);
    }

    [Fact]
    public async Task Tokens_for_another_audience_are_refused_on_both_paths()
    {
        await using var api = await StartApiAsync();
        using var jwt = await CallAsync(api, "data", await TokenAsync(TokenServer.ClientId, "api2"));
        using var reference = await CallAsync(api, "data", await TokenAsync(TokenServer.ReferenceClientId, "api2"));
        Assert.Equal(HttpStatusCode.Unauthorized, jwt.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, reference.StatusCode);
    }

    [Fact]
    public async Task Garbage_and_oversized_tokens_get_401_not_500()
    {
        await using var api = await StartApiAsync();
        foreach (var garbage in new[] { "x", new string('A', 43), "a.b", "a.b.c", "%%%", new string('x', 20_000), new string('y', 20_000) + ".a.b" })
        {
            using var response = await CallAsync(api, "data", garbage);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var none = await CallAsync(api, "data", null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.First().ToString());
    }

    [Fact]
    public async Task Reference_token_is_refused_when_the_api_has_no_secret()
    {
        await using var api = await StartApiAsync(o => o.ApiSecret = null);
        using var response = await CallAsync(api, "data", await TokenAsync(TokenServer.ReferenceClientId));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Wrong_api_secret_or_token_service_down_refuses_reference_tokens_without_500()
    {
        await using var wrongSecret = await StartApiAsync(o => o.ApiSecret = "wrong");
        var reference = await TokenAsync(TokenServer.ReferenceClientId);
        using (var response = await CallAsync(wrongSecret, "data", reference))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await using var down = await StartApiAsync(o => o.Authority = $"http://127.0.0.1:{TestApp.FreePort()}");
        using var downResponse = await CallAsync(down, "data", reference);
        Assert.Equal(HttpStatusCode.Unauthorized, downResponse.StatusCode);
    }

    [Fact]
    public async Task One_api_accepts_tokens_for_each_of_its_audiences()
    {
        await using var api = await StartApiAsync(o => o.Audiences = ["api1", "api2"]);
        // A token for api2 only carries scope api2; /data asks for api1, so use a token with both audiences and one with api2 only.
        using var api1Token = await CallAsync(api, "data", await TokenAsync(TokenServer.ClientId, "api1"));
        using var api2Reference = await CallAsync(api, "data", await TokenAsync(TokenServer.ReferenceClientId, "api1 api2"));
        Assert.Equal(HttpStatusCode.OK, api1Token.StatusCode);
        Assert.Equal(HttpStatusCode.OK, api2Reference.StatusCode);
    }

    [Fact]
    public async Task One_host_serves_two_apis_with_their_own_audiences_and_scopes()
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        builder.Services.AddAuthentication()
            .AddCastellanApi("Api1", o =>
            {
                o.Authority = _tokenService.BaseAddress;
                o.Audiences = ["api1"];
                o.ApiSecret = TokenServer.Api1Secret;
            })
            .AddCastellanApi("Api2", o =>
            {
                o.Authority = _tokenService.BaseAddress;
                o.Audiences = ["api2"];
                o.ApiSecret = TokenServer.Api2Secret;
            });
        var app = builder.Build();
        app.MapGet("/one", () => "one").RequireAuthorization(p => p.AddAuthenticationSchemes("Api1").RequireScope("api1"));
        app.MapGet("/two", () => "two").RequireAuthorization(p => p.AddAuthenticationSchemes("Api2").RequireScope("api2"));
        await using var host = await TestApp.StartAsync(app);

        foreach (var client in new[] { TokenServer.ClientId, TokenServer.ReferenceClientId })
        {
            var api1 = await TokenAsync(client, "api1");
            var api2 = await TokenAsync(client, "api2");
            using var oneWithApi1 = await CallAsync(host, "one", api1);
            using var twoWithApi1 = await CallAsync(host, "two", api1);
            using var twoWithApi2 = await CallAsync(host, "two", api2);
            using var oneWithApi2 = await CallAsync(host, "one", api2);
            Assert.Equal(HttpStatusCode.OK, oneWithApi1.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, twoWithApi1.StatusCode);
            Assert.Equal(HttpStatusCode.OK, twoWithApi2.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, oneWithApi2.StatusCode);
        }
    }

    [Fact]
    public async Task Token_validated_hook_can_reject_either_kind()
    {
        await using var api = await StartApiAsync(o => o.Events.OnTokenValidated = context =>
        {
            if (context.Principal.FindFirst("client_tenant")?.Value != "contoso")
            {
                context.Fail("wrong tenant");
            }

            return Task.CompletedTask;
        });

        using var jwt = await CallAsync(api, "data", await TokenAsync(TokenServer.ClientId));
        using var reference = await CallAsync(api, "data", await TokenAsync(TokenServer.ReferenceClientId));
        Assert.Equal(HttpStatusCode.Unauthorized, jwt.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, reference.StatusCode);
    }

    /// <summary>An IDistributedCache whose expiry follows a fake clock, so cache expiry is tested without waiting.</summary>
    private sealed class FakeClockDistributedCache(TimeProvider clock) : IDistributedCache
    {
        private readonly ConcurrentDictionary<string, (byte[] Value, DateTimeOffset Expires)> _entries = new();

        public IEnumerable<string> Keys => _entries.Keys;

        public byte[]? Get(string key)
            => _entries.TryGetValue(key, out var entry) && entry.Expires > clock.GetUtcNow() ? entry.Value : null;

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
            => _entries[key] = (value, clock.GetUtcNow() + (options.AbsoluteExpirationRelativeToNow ?? TimeSpan.FromDays(1)));

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Set(key, value, options);
            return Task.CompletedTask;
        }

        public void Refresh(string key)
        {
        }

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key) => _entries.TryRemove(key, out _);

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Remove(key);
            return Task.CompletedTask;
        }
    }
}
