using System.Security.Cryptography;
using System.Text.Json;
using Castellan.Keys;
using Castellan.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tests.Keys;

/// <summary>
/// What someone who can write to the key folder (but holds no Data Protection key) can and cannot do: plant a
/// plain key, relabel a protected one, leave broken files. None of it may publish or sign, and none of it may
/// stop the real keys from loading or rotating.
/// </summary>
public sealed class KeyFileTamperingTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "castellan-keys-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(Start);
    private readonly IDataProtectionProvider _dataProtection = new EphemeralDataProtectionProvider();
    private readonly ListLogger<KeyRingProvider> _providerLog = new();
    private readonly ListLogger<FileSystemSigningKeyStore> _storeLog = new();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, true);
        }
    }

    private KeyRingProvider CreateProvider(Action<KeyManagementOptions>? configure = null)
    {
        var options = new CastellanOptions();
        configure?.Invoke(options.KeyManagement);
        var store = new FileSystemSigningKeyStore(_directory, _storeLog);
        return new KeyRingProvider(new StaticKeys(), store, _dataProtection, _time, Options.Create(options), _providerLog);
    }

    private static List<string> PublishedKids(KeyRing ring)
    {
        using var jwks = JsonDocument.Parse(ring.JwksJson);
        return jwks.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    private string FileFor(string id) => Path.Combine(_directory, $"castellan-key-{id}.json");

    private static SerializedKey Read(string file) => JsonSerializer.Deserialize<SerializedKey>(File.ReadAllText(file))!;

    private static void Write(string file, SerializedKey key) => File.WriteAllText(file, JsonSerializer.Serialize(key));

    private static SerializedKey AttackerKey(string id, DateTimeOffset created)
    {
        using var rsa = RSA.Create(2048);
        return new SerializedKey
        {
            Id = id,
            Algorithm = "RS256",
            Created = created,
            DataProtected = false,
            Data = Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()),
        };
    }

    [Fact]
    public async Task Planted_unprotected_key_is_refused_with_an_error_and_never_published_or_used()
    {
        string real;
        using (var first = CreateProvider())
        {
            real = (await first.GetAsync(default)).Signing["RS256"].Key.KeyId;
        }

        // Older than the real key and past its propagation, so on age alone it would sign.
        var planted = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        Write(FileFor(planted), AttackerKey(planted, Start - TimeSpan.FromDays(20)));

        using var provider = CreateProvider();
        var ring = await provider.GetAsync(default);
        Assert.Equal(real, ring.Signing["RS256"].Key.KeyId);
        Assert.Equal([real], PublishedKids(ring));
        Assert.True(_providerLog.Has("UnprotectedKeyRefused", LogLevel.Error));
    }

    [Fact]
    public async Task Unprotected_keys_are_read_only_when_protection_is_off()
    {
        var planted = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        Directory.CreateDirectory(_directory);
        Write(FileFor(planted), AttackerKey(planted, Start));

        using var provider = CreateProvider(o => o.DataProtectKeys = false);
        Assert.Contains(planted, PublishedKids(await provider.GetAsync(default)));
    }

    [Theory]
    [InlineData("id")]
    [InlineData("algorithm")]
    [InlineData("created")]
    public async Task Relabelled_protected_key_does_not_decrypt(string field)
    {
        string real;
        using (var first = CreateProvider(o => o.SigningAlgorithms = ["RS256", "PS256"]))
        {
            real = (await first.GetAsync(default)).Signing["RS256"].Key.KeyId;
        }

        // Move the real RS256 key's ciphertext under another label, as an attacker with folder access could.
        var original = Read(FileFor(real));
        var relabelled = field switch
        {
            "id" => original with { Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)) },
            "algorithm" => original with { Algorithm = "PS256" },
            _ => original with { Created = original.Created - TimeSpan.FromDays(30) },
        };
        File.Delete(FileFor(real));
        Write(FileFor(relabelled.Id), relabelled);

        using var provider = CreateProvider(o => o.SigningAlgorithms = ["RS256", "PS256"]);
        var ring = await provider.GetAsync(default);
        // The relabelled ciphertext is neither published nor signing; fresh keys took over.
        Assert.DoesNotContain(relabelled.Id, PublishedKids(ring));
        Assert.True(_providerLog.Has("SigningKeyUnreadable", LogLevel.Error));
        Assert.NotEqual(relabelled.Id, ring.Signing["RS256"].Key.KeyId);
        Assert.NotEqual(relabelled.Id, ring.Signing["PS256"].Key.KeyId);
    }

    [Fact]
    public async Task Copy_under_another_file_name_is_ignored()
    {
        string real;
        using (var first = CreateProvider())
        {
            real = (await first.GetAsync(default)).Signing["RS256"].Key.KeyId;
        }

        var other = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        File.Copy(FileFor(real), FileFor(other));

        using var provider = CreateProvider();
        Assert.Equal([real], PublishedKids(await provider.GetAsync(default)));
        Assert.True(_storeLog.Has("KeyFileRejected", LogLevel.Error));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"Id": null, "Algorithm": "RS256", "Created": "2026-01-01T00:00:00Z", "DataProtected": true, "Data": "AAAA"}""")]
    [InlineData("""{"Id": "../../etc/passwd", "Algorithm": "RS256", "Created": "2026-01-01T00:00:00Z", "DataProtected": true, "Data": "AAAA"}""")]
    [InlineData("""{"Id": "bad", "Algorithm": "HS256", "Created": "2026-01-01T00:00:00Z", "DataProtected": true, "Data": "AAAA"}""")]
    [InlineData("""{"Id": "bad", "Algorithm": "RS256", "Created": "2026-01-01T00:00:00Z", "DataProtected": true, "Data": "not base64!"}""")]
    [InlineData("""{"Id": "bad", "Algorithm": "RS256", "Created": "2026-01-01T00:00:00Z", "DataProtected": false, "Data": "AAAA"}""")]
    public async Task Malformed_file_is_skipped_with_an_error_and_keys_still_load_and_rotate(string content)
    {
        using var provider = CreateProvider();
        var first = (await provider.GetAsync(default)).Signing["RS256"].Key.KeyId;
        await File.WriteAllTextAsync(Path.Combine(_directory, "castellan-key-bad.json"), content);

        // Past the first key's retention (90 + 14 days), with the broken file dated like the first key: loading,
        // rotation and deletion all go on.
        _time.Advance(TimeSpan.FromDays(76));
        var rotated = await provider.GetAsync(default);
        Assert.Contains(first, PublishedKids(rotated));
        Assert.Equal(2, PublishedKids(rotated).Count);
        _time.Advance(TimeSpan.FromDays(30));
        var later = await provider.GetAsync(default);
        Assert.DoesNotContain(first, PublishedKids(later));
        Assert.NotEqual(first, later.Signing["RS256"].Key.KeyId);
        Assert.True(_storeLog.Entries.Any(e => e.Level == LogLevel.Error) || _providerLog.Entries.Any(e => e.Level == LogLevel.Error));
    }

    [Fact]
    public async Task Key_folder_is_owner_only_and_so_is_every_file_in_it()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var provider = CreateProvider();
        await provider.GetAsync(default);
        await provider.RotateAsync("RS256", default);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        var files = Directory.GetFiles(_directory, "*", new EnumerationOptions { AttributesToSkip = 0 });
        Assert.Contains(files, f => Path.GetFileName(f) == ".castellan-keys.lock");
        Assert.Equal(3, files.Length);
        foreach (var file in files)
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }
}
