using System.Text.Json;
using Castellan.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.Tests.Keys;

public sealed class KeyLifecycleTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "castellan-keys-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(Start);
    private readonly IDataProtectionProvider _dataProtection = new EphemeralDataProtectionProvider();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, true);
        }
    }

    private KeyRingProvider CreateProvider(Action<KeyManagementOptions>? configure = null, IDataProtectionProvider? dataProtection = null,
        Func<ISigningKeyStore, ISigningKeyStore>? wrapStore = null)
    {
        var options = new CastellanOptions();
        configure?.Invoke(options.KeyManagement);
        ISigningKeyStore store = new FileSystemSigningKeyStore(_directory, NullLogger<FileSystemSigningKeyStore>.Instance);
        store = wrapStore?.Invoke(store) ?? store;
        return new KeyRingProvider(new StaticKeys(), store, dataProtection ?? _dataProtection, _time, Options.Create(options),
            NullLogger<KeyRingProvider>.Instance);
    }

    private static List<string> PublishedKids(KeyRing ring)
    {
        using var jwks = JsonDocument.Parse(ring.JwksJson);
        return jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    private static string SigningKid(KeyRing ring, string algorithm = "RS256") => ring.Signing[algorithm].Key.KeyId;

    [Fact]
    public async Task Nodes_sharing_the_key_folder_create_one_key_between_them()
    {
        // Two nodes read the empty shared folder at the same moment (a rendezvous makes sure of it), so both find
        // a key due; the creation lock lets one create it and the other find and use it.
        var ringsAtStart = await StartTwoNodesAsync();
        Assert.Equal(SigningKid(ringsAtStart[0]), SigningKid(ringsAtStart[1]));
        Assert.Single(Directory.GetFiles(_directory, "castellan-key-*.json"));

        // Day 76: two fresh nodes both see the successor due; still one successor.
        _time.Advance(TimeSpan.FromDays(76));
        var ringsAtRotation = await StartTwoNodesAsync();
        Assert.Equal(2, Directory.GetFiles(_directory, "castellan-key-*.json").Length);
        Assert.Equal(PublishedKids(ringsAtRotation[0]).Order(), PublishedKids(ringsAtRotation[1]).Order());
    }

    private async Task<KeyRing[]> StartTwoNodesAsync()
    {
        var rendezvous = new Rendezvous(2);
        using var first = CreateProvider(wrapStore: s => new RendezvousStore(s, rendezvous));
        using var second = CreateProvider(wrapStore: s => new RendezvousStore(s, rendezvous));
        return await Task.WhenAll(Task.Run(async () => await first.GetAsync(default)), Task.Run(async () => await second.GetAsync(default)));
    }

    /// <summary>Lets each node's first read of the folder finish only when every node has read it.</summary>
    private sealed class Rendezvous(int parties)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public Task ArriveAsync()
        {
            if (Interlocked.Increment(ref _arrived) == parties)
            {
                _all.TrySetResult();
            }

            return _all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private sealed class RendezvousStore(ISigningKeyStore inner, Rendezvous rendezvous) : ISigningKeyStore
    {
        private int _loads;

        public async Task<IReadOnlyList<SerializedKey>> LoadKeysAsync(CancellationToken cancellationToken)
        {
            var keys = await inner.LoadKeysAsync(cancellationToken);
            if (Interlocked.Increment(ref _loads) == 1)
            {
                await rendezvous.ArriveAsync();
            }

            return keys;
        }

        public Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken) => inner.StoreKeyAsync(key, cancellationToken);

        public Task DeleteKeyAsync(string id, CancellationToken cancellationToken) => inner.DeleteKeyAsync(id, cancellationToken);

        public Task<IAsyncDisposable> LockForKeyCreationAsync(CancellationToken cancellationToken) => inner.LockForKeyCreationAsync(cancellationToken);
    }

    [Fact]
    public async Task Operator_rotation_publishes_a_successor_that_signs_only_after_propagating()
    {
        using var provider = CreateProvider();
        var a = SigningKid(await provider.GetAsync(default));

        // Day 5: rotate by hand while A itself is still young. B is published, A keeps signing.
        _time.Advance(TimeSpan.FromDays(5));
        var b = await provider.RotateAsync("RS256", default);
        var ring = await provider.GetAsync(default);
        Assert.Equal(a, SigningKid(ring));
        Assert.Equal(new[] { a, b }.Order(), PublishedKids(ring).Order());

        // Day 18: B has not propagated yet. Day 19: it has, and signs.
        _time.Advance(TimeSpan.FromDays(13));
        Assert.Equal(a, SigningKid(await provider.GetAsync(default)));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(b, SigningKid(await provider.GetAsync(default)));

        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.RotateAsync("ES256", default));
    }

    [Fact]
    public async Task Describe_reports_each_keys_lifecycle_stage_without_changing_the_store()
    {
        using var provider = CreateProvider();
        var a = SigningKid(await provider.GetAsync(default));
        _time.Advance(TimeSpan.FromDays(76));
        var b = PublishedKids(await provider.GetAsync(default)).Single(k => k != a);

        var early = await provider.DescribeAsync(default);
        Assert.Equal([(a, KeyStatus.Signing), (b, KeyStatus.Announced)], early.Select(r => (r.Id, r.Status)));
        // The first key signed from its creation; the successor signs once it has propagated.
        Assert.Equal(Start, early[0].SignsFrom);
        Assert.Equal(Start + TimeSpan.FromDays(90), early[1].SignsFrom);

        _time.Advance(TimeSpan.FromDays(14));
        var report = await provider.DescribeAsync(default);
        Assert.Equal([(a, KeyStatus.Retired), (b, KeyStatus.Signing)], report.Select(r => (r.Id, r.Status)));
        Assert.Equal(Start + TimeSpan.FromDays(104), report[0].DeletedAt);

        // Past A's retention the report says so, but only a reload deletes it.
        _time.Advance(TimeSpan.FromDays(15));
        Assert.Equal(KeyStatus.Expired, (await provider.DescribeAsync(default))[0].Status);
        Assert.Equal(2, Directory.GetFiles(_directory, "castellan-key-*.json").Length);

        using var ecOnly = CreateProvider(o => o.SigningAlgorithms = ["ES256"]);
        Assert.All(await ecOnly.DescribeAsync(default), r => Assert.Equal(KeyStatus.NotConfigured, r.Status));
    }

    [Fact]
    public async Task Key_goes_through_announce_activate_retire_delete_with_default_timings()
    {
        using var provider = CreateProvider();

        // Day 0: first start creates key A and signs with it at once (nobody can have an older key set).
        var ring = await provider.GetAsync(default);
        var a = SigningKid(ring);
        Assert.Equal([a], PublishedKids(ring));

        // Day 75: nothing changes yet.
        _time.Advance(TimeSpan.FromDays(75));
        ring = await provider.GetAsync(default);
        Assert.Equal(a, SigningKid(ring));
        Assert.Equal([a], PublishedKids(ring));

        // Day 76 = 90 - 14: successor B is announced (published) but A still signs.
        _time.Advance(TimeSpan.FromDays(1));
        ring = await provider.GetAsync(default);
        var published = PublishedKids(ring);
        Assert.Equal(2, published.Count);
        var b = published.Single(k => k != a);
        Assert.Equal(a, SigningKid(ring));

        // Day 89: B is still only announced.
        _time.Advance(TimeSpan.FromDays(13));
        ring = await provider.GetAsync(default);
        Assert.Equal(a, SigningKid(ring));

        // Day 90: A retires, B signs; A stays published so tokens it signed still validate.
        _time.Advance(TimeSpan.FromDays(1));
        ring = await provider.GetAsync(default);
        Assert.Equal(b, SigningKid(ring));
        Assert.Equal(new[] { a, b }.Order(), PublishedKids(ring).Order());

        // Day 104 = 90 + 14: A's retention is over, it is deleted from the JWKS and the store.
        _time.Advance(TimeSpan.FromDays(14));
        ring = await provider.GetAsync(default);
        Assert.Equal([b], PublishedKids(ring));
        Assert.Equal(b, SigningKid(ring));
        Assert.Single(Directory.GetFiles(_directory, "*.json"));

        // Day 152 = B's 76th day: C is announced while B signs; day 166: C signs.
        _time.Advance(TimeSpan.FromDays(48));
        ring = await provider.GetAsync(default);
        Assert.Equal(2, PublishedKids(ring).Count);
        Assert.Equal(b, SigningKid(ring));
        var c = PublishedKids(ring).Single(k => k != b);
        _time.Advance(TimeSpan.FromDays(14));
        ring = await provider.GetAsync(default);
        Assert.Equal(c, SigningKid(ring));
    }

    [Fact]
    public async Task Custom_timings_are_honoured()
    {
        using var provider = CreateProvider(o =>
        {
            o.RotationInterval = TimeSpan.FromHours(10);
            o.PropagationTime = TimeSpan.FromHours(2);
            o.RetentionDuration = TimeSpan.FromHours(1);
        });
        var a = SigningKid(await provider.GetAsync(default));

        _time.Advance(TimeSpan.FromHours(8));
        var ring = await provider.GetAsync(default);
        Assert.Equal(2, PublishedKids(ring).Count);
        Assert.Equal(a, SigningKid(ring));

        _time.Advance(TimeSpan.FromHours(2));
        ring = await provider.GetAsync(default);
        Assert.NotEqual(a, SigningKid(ring));
        Assert.Contains(a, PublishedKids(ring));

        _time.Advance(TimeSpan.FromHours(1));
        ring = await provider.GetAsync(default);
        Assert.DoesNotContain(a, PublishedKids(ring));
    }

    [Fact]
    public async Task Restart_reuses_the_stored_key()
    {
        string kid;
        using (var first = CreateProvider())
        {
            kid = SigningKid(await first.GetAsync(default));
        }

        using var second = CreateProvider();
        var ring = await second.GetAsync(default);
        Assert.Equal(kid, SigningKid(ring));
        Assert.Equal([kid], PublishedKids(ring));
    }

    [Fact]
    public async Task Keys_are_encrypted_at_rest()
    {
        using var provider = CreateProvider();
        await provider.GetAsync(default);
        var file = Assert.Single(Directory.GetFiles(_directory, "*.json"));
        var stored = JsonSerializer.Deserialize<SerializedKey>(await File.ReadAllTextAsync(file))!;
        Assert.True(stored.DataProtected);
        // A PKCS#8 RSA key starts with the DER SEQUENCE tag 0x30; the protected payload must not.
        var bytes = Convert.FromBase64String(stored.Data);
        Assert.Throws<System.Security.Cryptography.CryptographicException>(() =>
            System.Security.Cryptography.RSA.Create().ImportPkcs8PrivateKey(bytes, out _));
        Assert.DoesNotContain("\"d\"", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_that_cannot_be_decrypted_is_replaced_not_used()
    {
        string kid;
        using (var first = CreateProvider())
        {
            kid = SigningKid(await first.GetAsync(default));
        }

        // Another Data Protection key ring cannot decrypt the stored key: a new key is created instead of failing.
        using var second = CreateProvider(dataProtection: new EphemeralDataProtectionProvider());
        var ring = await second.GetAsync(default);
        Assert.NotEqual(kid, SigningKid(ring));
        Assert.DoesNotContain(kid, PublishedKids(ring));
    }

    [Fact]
    public async Task Several_algorithms_each_get_their_own_key()
    {
        using var provider = CreateProvider(o => o.SigningAlgorithms = ["RS256", "ES256", "PS256"]);
        var ring = await provider.GetAsync(default);
        Assert.Equal("RS256", ring.DefaultAlgorithm);
        Assert.Equal(3, ring.Signing.Count);
        Assert.Equal(3, PublishedKids(ring).Distinct().Count());
        using var jwks = JsonDocument.Parse(ring.JwksJson);
        var ec = jwks.RootElement.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("alg").GetString() == "ES256");
        Assert.Equal("EC", ec.GetProperty("kty").GetString());
        Assert.Equal("P-256", ec.GetProperty("crv").GetString());
    }

    [Fact]
    public async Task Jwks_never_contains_private_parameters()
    {
        using var provider = CreateProvider(o => o.SigningAlgorithms = ["RS256", "ES256"]);
        var ring = await provider.GetAsync(default);
        using var jwks = JsonDocument.Parse(ring.JwksJson);
        foreach (var key in jwks.RootElement.GetProperty("keys").EnumerateArray())
        {
            foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
            {
                Assert.False(key.TryGetProperty(member, out _), $"JWKS leaks '{member}'");
            }

            Assert.Equal("sig", key.GetProperty("use").GetString());
        }
    }
}
