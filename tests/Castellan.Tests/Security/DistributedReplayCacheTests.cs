using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Castellan.Security;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.Tests.Security;

public sealed class DistributedReplayCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly MemoryDistributedCache _shared = new(Options.Create(new MemoryDistributedCacheOptions()));

    private DistributedReplayCache Node(IDistributedCache? cache = null, string prefix = "castellan:replay:")
        => new(cache ?? _shared, Options.Create(new ReplayCacheOptions { KeyPrefix = prefix }), _time);

    [Fact]
    public async Task Value_is_accepted_once_across_nodes()
    {
        var nodeA = Node();
        var nodeB = Node();

        Assert.True(await nodeA.TryAddAsync("dpop", "jti-1", Start.AddMinutes(2), CancellationToken.None));
        Assert.False(await nodeB.TryAddAsync("dpop", "jti-1", Start.AddMinutes(2), CancellationToken.None));
        Assert.False(await nodeA.TryAddAsync("dpop", "jti-1", Start.AddMinutes(2), CancellationToken.None));
        Assert.True(await nodeB.TryAddAsync("client_assertion", "jti-1", Start.AddMinutes(2), CancellationToken.None));
    }

    [Fact]
    public async Task Keys_are_prefixed_sha256_hashes_and_entries_expire_absolutely()
    {
        var recording = new RecordingCache();
        var cache = Node(recording, prefix: "app1:");

        Assert.True(await cache.TryAddAsync("dpop", "jti-1", Start.AddSeconds(90.2), CancellationToken.None));

        var (key, options) = Assert.Single(recording.Sets);
        Assert.StartsWith("app1:", key, StringComparison.Ordinal);
        Assert.DoesNotContain("jti-1", key, StringComparison.Ordinal);
        Assert.Equal(43, key.Length - "app1:".Length);
        Assert.Equal(Expected("dpop", "jti-1"), key["app1:".Length..]);
        // Rounded up to whole seconds, plus one for nodes whose clocks differ a little; never sliding.
        Assert.Equal(TimeSpan.FromSeconds(92), options.AbsoluteExpirationRelativeToNow);
        Assert.Null(options.SlidingExpiration);
    }

    [Fact]
    public async Task Expired_value_is_neither_read_nor_written()
    {
        var recording = new RecordingCache();
        Assert.True(await Node(recording).TryAddAsync("dpop", "old", Start.AddSeconds(-1), CancellationToken.None));
        Assert.Empty(recording.Sets);
        Assert.Equal(0, recording.Gets);
    }

    [Fact]
    public async Task Failing_cache_throws_rather_than_accepting()
    {
        var cache = Node(new FailingCache());
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => cache.TryAddAsync("dpop", "jti", Start.AddMinutes(1), CancellationToken.None).AsTask());
    }

    private static string Expected(string purpose, string value)
    {
        var purposeBytes = Encoding.UTF8.GetBytes(purpose);
        var input = BitConverter.GetBytes(purposeBytes.Length).Concat(purposeBytes).Concat(Encoding.UTF8.GetBytes(value)).ToArray();
        return Base64Url.EncodeToString(SHA256.HashData(input));
    }

    private sealed class RecordingCache : IDistributedCache
    {
        private readonly MemoryDistributedCache _inner = new(Options.Create(new MemoryDistributedCacheOptions()));

        public List<(string Key, DistributedCacheEntryOptions Options)> Sets { get; } = [];

        public int Gets { get; private set; }

        public byte[]? Get(string key) => throw new NotSupportedException();

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
        {
            Gets++;
            return _inner.GetAsync(key, token);
        }

        public void Refresh(string key) => throw new NotSupportedException();

        public Task RefreshAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Remove(string key) => throw new NotSupportedException();

        public Task RemoveAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException();

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Sets.Add((key, options));
            return _inner.SetAsync(key, value, options, token);
        }
    }

    private sealed class FailingCache : IDistributedCache
    {
        public byte[]? Get(string key) => throw new InvalidOperationException("down");

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => throw new InvalidOperationException("down");

        public void Refresh(string key) => throw new InvalidOperationException("down");

        public Task RefreshAsync(string key, CancellationToken token = default) => throw new InvalidOperationException("down");

        public void Remove(string key) => throw new InvalidOperationException("down");

        public Task RemoveAsync(string key, CancellationToken token = default) => throw new InvalidOperationException("down");

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new InvalidOperationException("down");

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
            => throw new InvalidOperationException("down");
    }
}
