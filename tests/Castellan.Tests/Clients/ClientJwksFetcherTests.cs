using System.Net;
using System.Security.Cryptography;
using System.Text;
using Castellan.Clients.Authentication;
using Castellan.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tests.Clients;

/// <summary>
/// The keys a client publishes at its jwks_uri (RFC 7523 private_key_jwt): cached, fetched once at a time and at a
/// bounded rate, bounded in time and size, and only public signature keys kept.
/// </summary>
public sealed class ClientJwksFetcherTests
{
    private const string JwksUri = "https://client.example/jwks";

    private static readonly RSAParameters Rsa = CreateRsa();

    private static readonly ECParameters Ec = CreateEc();

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private readonly JwksServer _server = new();

    private readonly ListLogger<ClientJwksFetcher> _log = new();

    private readonly CastellanOptions _options = new();

    private ClientJwksOptions Jwks => _options.ClientJwks;

    private ClientJwksFetcher Fetcher()
        => new(new TestHttpClientFactory(_server), _time, Options.Create(_options), _log);

    [Fact]
    public async Task Keys_are_cached_for_the_cache_duration_then_fetched_again()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();

        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        _time.Advance(Jwks.CacheDuration - TimeSpan.FromSeconds(1));
        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        Assert.Equal(1, _server.Requests);

        _server.Respond(KeySet(RsaKey("k2")));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["k2"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        Assert.Equal(2, _server.Requests);
        Assert.Equal(HttpMethod.Get, _server.LastRequest!.Method);
        Assert.Equal(JwksUri, _server.LastRequest.RequestUri!.AbsoluteUri);
        Assert.Equal(["application/jwk-set+json", "application/json"], _server.LastRequest.Headers.Accept.Select(a => a.MediaType));
        Assert.Equal(ClientJwksFetcher.HttpClientName, _server.ClientName);
    }

    [Fact]
    public async Task Uris_are_cached_apart_and_compared_ordinally()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();

        await fetcher.GetKeysAsync(JwksUri, refresh: false, default);
        await fetcher.GetKeysAsync("https://client.example/JWKS", refresh: false, default);
        await fetcher.GetKeysAsync(JwksUri, refresh: false, default);

        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task Refresh_fetches_the_rotated_keys_at_most_once_per_minimum_refresh_interval()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();
        await fetcher.GetKeysAsync(JwksUri, refresh: false, default);
        _server.Respond(KeySet(RsaKey("k2")));

        // The keys were just fetched: asking again cannot find anything newer.
        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: true, default)));
        Assert.Equal(1, _server.Requests);

        _time.Advance(Jwks.MinimumRefreshInterval);
        Assert.Equal(["k2"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: true, default)));
        Assert.Equal(2, _server.Requests);

        _server.Respond(KeySet(RsaKey("k3")));
        _time.Advance(Jwks.MinimumRefreshInterval - TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(["k2"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: true, default)));
        }

        Assert.Equal(2, _server.Requests);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["k3"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: true, default)));
        Assert.Equal(3, _server.Requests);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_fetch()
    {
        var release = _server.Hold();
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();

        var callers = Enumerable.Range(0, 20).Select(i => fetcher.GetKeysAsync(JwksUri, refresh: i % 2 == 0, default).AsTask()).ToArray();
        await _server.Received.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(callers, c => Assert.False(c.IsCompleted));
        release.SetResult();
        var results = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, _server.Requests);
        Assert.All(results, keys => Assert.Equal(["k1"], Kids(keys)));
    }

    [Fact]
    public async Task Caller_cancellation_propagates_and_does_not_cancel_the_fetch_of_the_others()
    {
        var release = _server.Hold();
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();
        using var cancellation = new CancellationTokenSource();

        var cancelled = fetcher.GetKeysAsync(JwksUri, refresh: false, cancellation.Token).AsTask();
        var other = fetcher.GetKeysAsync(JwksUri, refresh: false, default).AsTask();
        await _server.Received.WaitAsync(TimeSpan.FromSeconds(30));
        await cancellation.CancelAsync();

        var exception = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(cancellation.Token, exception.CancellationToken);
        Assert.False(other.IsCompleted);
        release.SetResult();
        Assert.Equal(["k1"], Kids(await other.WaitAsync(TimeSpan.FromSeconds(30))));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetcher.GetKeysAsync(JwksUri, refresh: false, cancellation.Token).AsTask());
    }

    [Fact]
    public async Task Slow_server_hits_the_timeout_and_yields_no_keys()
    {
        _server.Hold();
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();

        var call = fetcher.GetKeysAsync(JwksUri, refresh: false, default).AsTask();
        await _server.Received.WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(Jwks.Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Empty(await call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(_log.Entries, e => e.Event.Name == "ClientJwksFetchFailed" && e.Level == LogLevel.Warning && e.Message.Contains("no answer within", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Body_of_exactly_the_size_limit_is_accepted()
    {
        _server.Respond(Padded(KeySet(RsaKey("k1")), Jwks.MaxResponseSize));

        Assert.Equal(["k1"], Kids(await Fetcher().GetKeysAsync(JwksUri, refresh: false, default)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Body_over_the_size_limit_is_refused_whatever_content_length_says(bool lyingContentLength)
    {
        _server.Respond(Padded(KeySet(RsaKey("k1")), Jwks.MaxResponseSize + 1), contentLength: lyingContentLength ? 100 : null);

        Assert.Empty(await Fetcher().GetKeysAsync(JwksUri, refresh: false, default));
        Assert.Contains(_log.Entries, e => e.Event.Name == "ClientJwksFetchFailed" && e.Message.Contains("larger than 65536 bytes", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(HttpStatusCode.MovedPermanently)]
    [InlineData(HttpStatusCode.Found)]
    [InlineData(HttpStatusCode.TemporaryRedirect)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task Answer_that_is_not_2xx_is_refused_even_with_a_key_set_in_it(HttpStatusCode status)
    {
        _server.Respond(KeySet(RsaKey("k1")), status: status);

        Assert.Empty(await Fetcher().GetKeysAsync(JwksUri, refresh: false, default));
        Assert.Equal(1, _server.Requests);
        Assert.True(_log.Has("ClientJwksFetchFailed", LogLevel.Warning));
        Assert.Equal((int)status is >= 300 and < 400, _log.Entries.Any(e => e.Message.Contains("which is not followed", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Http_is_refused_unless_https_is_not_required()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        const string http = "http://127.0.0.1:5001/jwks";

        Assert.Empty(await Fetcher().GetKeysAsync(http, refresh: false, default));
        Assert.Equal(0, _server.Requests);
        Assert.Contains(_log.Entries, e => e.Event.Name == "ClientJwksFetchFailed" && e.Message.Contains("RequireHttps", StringComparison.Ordinal));

        Jwks.RequireHttps = false;
        Assert.Equal(["k1"], Kids(await Fetcher().GetKeysAsync(http, refresh: false, default)));
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public async Task Only_public_signature_keys_of_type_rsa_or_ec_are_kept()
    {
        _server.Respond(KeySet(
            RsaKey("rsa"),
            RsaKey("rsa-sig", """, "use": "sig" """),
            RsaKey("rsa-verify", """, "key_ops": ["verify"] """),
            EcKey("ec"),
            RsaKey("rsa-enc", """, "use": "enc" """),
            RsaKey("rsa-encrypt-only", """, "key_ops": ["encrypt", "wrapKey"] """),
            RsaKey("rsa-private", """, "d": "AQAB" """),
            RsaKey("rsa-symmetric-member", """, "k": "c2VjcmV0" """),
            EcKey("ec-private", """, "d": "AQAB" """),
            """{ "kty": "oct", "kid": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" }""",
            """{ "kty": "OKP", "kid": "okp", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }""",
            """{ "kty": "RSA", "kid": "rsa-no-modulus", "e": "AQAB" }""",
            """{ "kty": "EC", "kid": "ec-no-y", "crv": "P-256", "x": "AQAB" }"""));

        var keys = await Fetcher().GetKeysAsync(JwksUri, refresh: false, default);

        Assert.Equal(["rsa", "rsa-sig", "rsa-verify", "ec"], Kids(keys));
        Assert.Contains(_log.Entries, e => e.Event.Name == "ClientJwksFetched" && e.Message.Contains("4 keys kept, 9 dropped", StringComparison.Ordinal));
    }

    /// <summary>Each private RSA member alone drops the key: a key with some of them has leaked some of its secret.</summary>
    [Theory]
    [InlineData("d")]
    [InlineData("p")]
    [InlineData("q")]
    [InlineData("dp")]
    [InlineData("dq")]
    [InlineData("qi")]
    public async Task Rsa_key_with_any_private_member_is_dropped(string member)
    {
        _server.Respond(KeySet(RsaKey("public"), RsaKey("leaked", $$""", "{{member}}": "AQAB" """)));

        Assert.Equal(["public"], Kids(await Fetcher().GetKeysAsync(JwksUri, refresh: false, default)));
    }

    [Fact]
    public async Task At_most_100_keys_are_kept()
    {
        _server.Respond(KeySet([.. Enumerable.Range(0, 150).Select(i => EcKey($"k{i}"))]));

        var keys = await Fetcher().GetKeysAsync(JwksUri, refresh: false, default);

        Assert.Equal(ClientJwksFetcher.MaxKeys, keys.Count);
        Assert.Equal("k0", keys[0].Kid);
        Assert.Equal("k99", keys[^1].Kid);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{ "keys": "none" }""")]
    [InlineData("[]")]
    public async Task Malformed_key_set_yields_no_keys(string body)
    {
        _server.Respond(body);

        Assert.Empty(await Fetcher().GetKeysAsync(JwksUri, refresh: false, default));
        Assert.True(_log.Has("ClientJwksFetchFailed", LogLevel.Warning));
    }

    [Fact]
    public async Task Failed_refetch_keeps_serving_the_cached_keys_until_twice_the_cache_duration()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();
        await fetcher.GetKeysAsync(JwksUri, refresh: false, default);
        _server.Respond(KeySet(RsaKey("k2")), status: HttpStatusCode.BadGateway);

        _time.Advance(Jwks.CacheDuration);
        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        Assert.True(_log.Has("ClientJwksFetchFailedUsingCached", LogLevel.Warning));

        _time.Advance(Jwks.CacheDuration - TimeSpan.FromSeconds(1));
        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        Assert.Equal(3, _server.Requests);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await fetcher.GetKeysAsync(JwksUri, refresh: false, default));
        Assert.Equal(3, _server.Requests);
        Assert.False(_log.Has("ClientJwksFetchFailed", LogLevel.Warning));

        _time.Advance(Jwks.MinimumRefreshInterval);
        Assert.Empty(await fetcher.GetKeysAsync(JwksUri, refresh: false, default));
        Assert.Equal(4, _server.Requests);
        Assert.True(_log.Has("ClientJwksFetchFailed", LogLevel.Warning));
    }

    [Fact]
    public async Task Failed_fetch_is_retried_only_after_the_minimum_refresh_interval()
    {
        _server.Respond("", status: HttpStatusCode.InternalServerError);
        var fetcher = Fetcher();

        for (var i = 0; i < 5; i++)
        {
            Assert.Empty(await fetcher.GetKeysAsync(JwksUri, refresh: i % 2 == 0, default));
        }

        Assert.Equal(1, _server.Requests);
        _server.Respond(KeySet(RsaKey("k1")));
        _time.Advance(Jwks.MinimumRefreshInterval);
        Assert.Equal(["k1"], Kids(await fetcher.GetKeysAsync(JwksUri, refresh: false, default)));
        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task Least_recently_used_uri_is_forgotten_beyond_the_cache_bound()
    {
        _server.Respond(KeySet(RsaKey("k1")));
        var fetcher = Fetcher();
        for (var i = 0; i < ClientJwksFetcher.MaxCachedUris; i++)
        {
            await fetcher.GetKeysAsync($"{JwksUri}/{i}", refresh: false, default);
        }

        await fetcher.GetKeysAsync($"{JwksUri}/0", refresh: false, default);
        await fetcher.GetKeysAsync($"{JwksUri}/new", refresh: false, default);
        Assert.Equal(ClientJwksFetcher.MaxCachedUris + 1, _server.Requests);

        // 0 was used after 1, so 1 made room for the new one.
        await fetcher.GetKeysAsync($"{JwksUri}/0", refresh: false, default);
        Assert.Equal(ClientJwksFetcher.MaxCachedUris + 1, _server.Requests);
        await fetcher.GetKeysAsync($"{JwksUri}/1", refresh: false, default);
        Assert.Equal(ClientJwksFetcher.MaxCachedUris + 2, _server.Requests);
    }

    [Fact]
    public void Registered_fetcher_uses_a_named_client_that_follows_no_redirects()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddCastellan();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<ClientJwksFetcher>(provider.GetRequiredService<IClientJwksFetcher>());
        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ClientJwksFetcher.HttpClientName);
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        Assert.False(Assert.IsType<HttpClientHandler>(handler).AllowAutoRedirect);
    }

    private static string[] Kids(IReadOnlyList<JsonWebKey> keys) => [.. keys.Select(k => k.Kid)];

    private static string KeySet(params string[] keys) => $$"""{ "keys": [{{string.Join(", ", keys)}}] }""";

    private static string RsaKey(string kid, string extra = "")
        => $$"""{ "kty": "RSA", "kid": "{{kid}}", "n": "{{Base64UrlEncoder.Encode(Rsa.Modulus)}}", "e": "{{Base64UrlEncoder.Encode(Rsa.Exponent)}}"{{extra}} }""";

    private static string EcKey(string kid, string extra = "")
        => $$"""{ "kty": "EC", "kid": "{{kid}}", "crv": "P-256", "x": "{{Base64UrlEncoder.Encode(Ec.Q.X)}}", "y": "{{Base64UrlEncoder.Encode(Ec.Q.Y)}}"{{extra}} }""";

    /// <summary>JSON allows trailing white space, so the key set stays valid at any size.</summary>
    private static string Padded(string json, int size) => json + new string(' ', size - Encoding.UTF8.GetByteCount(json));

    private static RSAParameters CreateRsa()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportParameters(false);
    }

    private static ECParameters CreateEc()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return ec.ExportParameters(false);
    }

    private sealed class TestHttpClientFactory(JwksServer server) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name)
        {
            server.ClientName = name;
            return new HttpClient(server, disposeHandler: false);
        }
    }

    /// <summary>Answers every request with the current response; optionally holds each until released.</summary>
    private sealed class JwksServer : HttpMessageHandler
    {
        private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private TaskCompletionSource? _hold;

        private (string Body, HttpStatusCode Status, long? ContentLength) _response = ("", HttpStatusCode.OK, null);

        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public HttpRequestMessage? LastRequest { get; private set; }

        public string? ClientName { get; set; }

        /// <summary>Completes when the first request arrives.</summary>
        public Task Received => _received.Task;

        public void Respond(string body, HttpStatusCode status = HttpStatusCode.OK, long? contentLength = null)
            => _response = (body, status, contentLength);

        /// <summary>Requests wait for the returned source, or for their cancellation.</summary>
        public TaskCompletionSource Hold() => _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            LastRequest = request;
            _received.TrySetResult();
            if (_hold is { } hold)
            {
                await hold.Task.WaitAsync(cancellationToken);
            }

            var (body, status, contentLength) = _response;
            var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
            if (contentLength is not null)
            {
                content.Headers.ContentLength = contentLength;
            }

            var response = new HttpResponseMessage(status) { Content = content, RequestMessage = request };
            if ((int)status is >= 300 and < 400)
            {
                response.Headers.Location = new Uri("https://elsewhere.example/jwks");
            }

            return response;
        }
    }
}
