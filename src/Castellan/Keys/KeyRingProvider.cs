using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Keys;

/// <summary>
/// Hands out the current <see cref="KeyRing"/>. With automatic key management it creates, rotates and
/// deletes keys in the <see cref="ISigningKeyStore"/> following <see cref="KeyManagementOptions"/>; the ring is
/// rebuilt only at the next lifecycle event or cache expiry, so the hot path is a time comparison.
/// </summary>
internal sealed class KeyRingProvider : IDisposable
{
    // v2: the key's id, algorithm and creation time are sub-purposes (ProtectorFor), so the
    // ciphertext only decrypts under the label it was written with. v1 files (no bound metadata) are not read.
    private const string ProtectorPurpose = "Castellan.SigningKeys.v2";
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    private readonly StaticKeys _staticKeys;
    private readonly ISigningKeyStore _store;
    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly KeyManagementOptions _options;
    private readonly IReadOnlyList<string> _algorithms;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private readonly Dictionary<string, (SerializedKey Source, SecurityKey Key)> _loaded = new(StringComparer.Ordinal);
    private volatile KeyRing? _ring;

    public KeyRingProvider(StaticKeys staticKeys, ISigningKeyStore store, IDataProtectionProvider dataProtection, TimeProvider time,
        IOptions<CastellanOptions> options, ILogger<KeyRingProvider> logger)
    {
        _staticKeys = staticKeys;
        _store = store;
        _protector = dataProtection.CreateProtector(ProtectorPurpose);
        _time = time;
        _options = options.Value.KeyManagement;
        _algorithms = _options.EffectiveSigningAlgorithms;
        _logger = logger;
    }

    /// <summary>The algorithms keys are kept for.</summary>
    public IReadOnlyList<string> ManagedAlgorithms => _algorithms;

    /// <summary>Whether keys are created and rotated here (no static signing credential was configured).</summary>
    public bool IsAutomatic => _options.Enabled && _staticKeys.Signing.Count == 0;

    public ValueTask<KeyRing> GetAsync(CancellationToken cancellationToken)
    {
        var ring = _ring;
        if (ring is not null && _time.GetUtcNow() < ring.RefreshAfter)
        {
            return ValueTask.FromResult(ring);
        }

        return RefreshAsync(cancellationToken);
    }

    private async ValueTask<KeyRing> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ring = _ring;
            if (ring is not null && _time.GetUtcNow() < ring.RefreshAfter)
            {
                return ring;
            }

            try
            {
                ring = IsAutomatic ? await BuildAutomaticAsync(cancellationToken).ConfigureAwait(false) : BuildStatic();
            }
            catch (Exception ex) when (ring is not null && ex is not OperationCanceledException)
            {
                // Keep signing with what we have; a store outage must not take the token endpoint down.
                KeyLog.RefreshFailed(_logger, ex);
                ring = new KeyRing(ring.Signing.Select(s => (s.Key, s.Value)).OrderBy(s => s.Key == ring.DefaultAlgorithm ? 0 : 1).ToList(),
                    ring.Published, _time.GetUtcNow() + RetryAfterFailure);
            }

            _ring = ring;
            return ring;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private KeyRing BuildStatic()
    {
        var signing = _staticKeys.Signing.Select(s => (s.Algorithm, new SigningCredentials(s.Key, s.Algorithm))).ToList();
        var published = _staticKeys.Signing.Concat(_staticKeys.Validation)
            .GroupBy(k => k.Key.KeyId, StringComparer.Ordinal)
            .Select(g => PublishedKey.From(g.First().Key, g.First().Algorithm)).ToList();
        return new KeyRing(signing, published, DateTimeOffset.MaxValue);
    }

    private async Task<KeyRing> BuildAutomaticAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var stored = await _store.LoadKeysAsync(cancellationToken).ConfigureAwait(false);
        if (!IsKeyCreationDue(stored, now))
        {
            return await BuildAutomaticAsync(stored, now, cancellationToken).ConfigureAwait(false);
        }

        // Nodes sharing the store take turns; whoever comes second finds the first one's key and uses it.
        var creationLock = await _store.LockForKeyCreationAsync(cancellationToken).ConfigureAwait(false);
        await using (creationLock.ConfigureAwait(false))
        {
            stored = await _store.LoadKeysAsync(cancellationToken).ConfigureAwait(false);
            return await BuildAutomaticAsync(stored, now, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether some algorithm has no usable key, or its newest key's successor is due.</summary>
    private bool IsKeyCreationDue(IReadOnlyList<SerializedKey> stored, DateTimeOffset now)
    {
        foreach (var algorithm in _algorithms)
        {
            if (IsSuccessorDue(UsableKeys(stored, algorithm, now) is [var newest, ..] ? newest.Source.Created : null, now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The stored keys of one algorithm that are within their retention and readable, newest first.</summary>
    private List<(SerializedKey Source, SecurityKey Key)> UsableKeys(IEnumerable<SerializedKey> stored, string algorithm, DateTimeOffset now)
    {
        var keys = new List<(SerializedKey Source, SecurityKey Key)>();
        foreach (var serialized in stored)
        {
            if (string.Equals(serialized.Algorithm, algorithm, StringComparison.Ordinal) && !IsPastRetention(serialized, now)
                && Load(serialized) is { } key)
            {
                keys.Add((serialized, key));
            }
        }

        keys.Sort((a, b) => b.Source.Created.CompareTo(a.Source.Created));
        return keys;
    }

    private bool IsPastRetention(SerializedKey key, DateTimeOffset now) => now >= key.Created + _options.RotationInterval + _options.RetentionDuration;

    /// <summary>The successor is due PropagationTime before the newest key retires (or now, if there is none).</summary>
    private bool IsSuccessorDue(DateTimeOffset? newestCreated, DateTimeOffset now)
        => newestCreated is null || now >= newestCreated.Value + _options.RotationInterval - _options.PropagationTime;

    private async Task<KeyRing> BuildAutomaticAsync(IReadOnlyList<SerializedKey> stored, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var refreshAfter = now + _options.KeyCacheDuration;
        var signing = new List<(string, SigningCredentials)>();
        var published = new List<PublishedKey>();

        foreach (var algorithm in _algorithms)
        {
            foreach (var serialized in stored)
            {
                if (string.Equals(serialized.Algorithm, algorithm, StringComparison.Ordinal) && IsPastRetention(serialized, now))
                {
                    try
                    {
                        await _store.DeleteKeyAsync(serialized.Id, cancellationToken).ConfigureAwait(false);
                        _loaded.Remove(serialized.Id);
                        KeyLog.KeyDeleted(_logger, serialized.Id, algorithm);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
                    {
                        // An expired key that cannot be deleted is neither published nor used (UsableKeys skips it);
                        // it must not stop the rest of the rotation.
                        KeyLog.KeyDeleteFailed(_logger, serialized.Id, ex);
                    }
                }
            }

            var keys = UsableKeys(stored, algorithm, now);
            if (IsSuccessorDue(keys.Count == 0 ? null : keys[0].Source.Created, now))
            {
                var created = await CreateAsync(algorithm, now, cancellationToken).ConfigureAwait(false);
                keys.Insert(0, created);
            }

            signing.Add((algorithm, new SigningCredentials(SelectSigningKey(keys, now), algorithm)));
            foreach (var (source, key) in keys)
            {
                published.Add(PublishedKey.From(key, algorithm));
                refreshAfter = Min(refreshAfter, NextEvent(source.Created, now));
            }

            refreshAfter = Min(refreshAfter, Later(keys[0].Source.Created + _options.RotationInterval - _options.PropagationTime, now));
        }

        foreach (var (algorithm, key) in _staticKeys.Validation)
        {
            published.Add(PublishedKey.From(key, algorithm));
        }

        KeyLog.KeyRingLoaded(_logger, string.Join(", ", signing.Select(s => $"{s.Item1}:{s.Item2.Key.KeyId}")), published.Count, refreshAfter);
        return new KeyRing(signing, published, refreshAfter);
    }

    /// <summary>
    /// The newest key that has finished propagating and is not retired. When none has (right after the very first
    /// key was created, or after an operator's rotation within a young key's propagation time), the oldest
    /// unretired key signs: it has been published longest, so relying parties most likely hold it already. A
    /// lone first key is both, and signs at once, as no relying party can hold an older key set that lacks it.
    /// </summary>
    private SecurityKey SelectSigningKey(List<(SerializedKey Source, SecurityKey Key)> newestFirst, DateTimeOffset now)
    {
        foreach (var (source, key) in newestFirst)
        {
            if (now >= source.Created + _options.PropagationTime && now < source.Created + _options.RotationInterval)
            {
                return key;
            }
        }

        for (var i = newestFirst.Count - 1; i >= 0; i--)
        {
            if (now < newestFirst[i].Source.Created + _options.RotationInterval)
            {
                return newestFirst[i].Key;
            }
        }

        return newestFirst[0].Key;
    }

    private DateTimeOffset NextEvent(DateTimeOffset created, DateTimeOffset now)
    {
        var next = DateTimeOffset.MaxValue;
        foreach (var at in (ReadOnlySpan<DateTimeOffset>)[created + _options.PropagationTime, created + _options.RotationInterval,
                     created + _options.RotationInterval + _options.RetentionDuration])
        {
            if (at > now && at < next)
            {
                next = at;
            }
        }

        return next;
    }

    private static DateTimeOffset Later(DateTimeOffset at, DateTimeOffset now) => at > now ? at : DateTimeOffset.MaxValue;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private SecurityKey? Load(SerializedKey serialized)
    {
        if (_loaded.TryGetValue(serialized.Id, out var cached) && cached.Source == serialized)
        {
            return cached.Key;
        }

        if (!serialized.DataProtected && _options.DataProtectKeys)
        {
            // With protection on, a plain key can only have been planted (or left from a deliberate downgrade):
            // it would let whoever can write the folder choose the signing key. Never published, never used.
            KeyLog.UnprotectedKeyRefused(_logger, serialized.Id);
            return null;
        }

        try
        {
            var data = Convert.FromBase64String(serialized.Data);
            var pkcs8 = serialized.DataProtected ? ProtectorFor(serialized.Id, serialized.Algorithm, serialized.Created).Unprotect(data) : data;
            var key = SigningAlgorithms.ToSecurityKey(SigningAlgorithms.ImportPkcs8(serialized.Algorithm, pkcs8), serialized.Id);
            CryptographicOperations.ZeroMemory(pkcs8);
            _loaded[serialized.Id] = (serialized, key);
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException or NotSupportedException)
        {
            KeyLog.KeyUnreadable(_logger, serialized.Id, ex);
            return null;
        }
    }

    /// <summary>
    /// The protector of one key: its metadata is a sub-purpose, so Data Protection authenticates it with the key
    /// material. A file relabelled with another id, algorithm or creation time (to make an old key sign again, or
    /// look younger) no longer decrypts.
    /// </summary>
    private IDataProtector ProtectorFor(string id, string algorithm, DateTimeOffset created)
        => _protector.CreateProtector(id, algorithm, created.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<(SerializedKey, SecurityKey)> CreateAsync(string algorithm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

        // Whole microseconds: the creation time is part of the key's protection purpose, so it must read back
        // exactly from any store, and databases keep less than .NET's 100 ns (PostgreSQL: microseconds). Not coarser:
        // keys are ordered by it, and a successor made within the same second as its predecessor must still sort after it.
        now = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
        var material = SigningAlgorithms.CreateKey(algorithm, _options.RsaKeySize);
        var pkcs8 = material.ExportPkcs8PrivateKey();
        if (!_options.DataProtectKeys)
        {
            KeyLog.KeysNotProtected(_logger);
        }

        var data = _options.DataProtectKeys ? ProtectorFor(id, algorithm, now).Protect(pkcs8) : pkcs8;
        CryptographicOperations.ZeroMemory(pkcs8);
        var serialized = new SerializedKey
        {
            Id = id,
            Algorithm = algorithm,
            Created = now,
            DataProtected = _options.DataProtectKeys,
            Data = Convert.ToBase64String(data),
        };
        await _store.StoreKeyAsync(serialized, cancellationToken).ConfigureAwait(false);
        var key = SigningAlgorithms.ToSecurityKey(material, id);
        _loaded[id] = (serialized, key);
        KeyLog.KeyCreated(_logger, id, algorithm);
        return (serialized, key);
    }

    /// <summary>
    /// The stored keys and where each stands in its lifecycle now, by the same rules the ring is built with, for
    /// operators. Reads only: nothing is created or deleted.
    /// </summary>
    public async Task<IReadOnlyList<KeyReport>> DescribeAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var stored = await _store.LoadKeysAsync(cancellationToken).ConfigureAwait(false);
        var reports = new List<KeyReport>(stored.Count);
        foreach (var group in stored.GroupBy(k => k.Algorithm, StringComparer.Ordinal))
        {
            var readable = UsableKeys(group, group.Key, now);
            var signingId = readable.Count > 0 ? SelectSigningKey(readable, now).KeyId : null;
            foreach (var key in group.OrderBy(k => k.Created))
            {
                var status = !_algorithms.Contains(key.Algorithm) ? KeyStatus.NotConfigured
                    : IsPastRetention(key, now) ? KeyStatus.Expired
                    : !readable.Any(r => r.Source.Id == key.Id) ? KeyStatus.Unreadable
                    : key.Id == signingId ? KeyStatus.Signing
                    : now >= key.Created + _options.RotationInterval ? KeyStatus.Retired
                    : KeyStatus.Announced;
                // A first key signs at once (no relying party can hold an older key set); a successor once it has
                // propagated.
                var signsFrom = group.Any(k => k.Created < key.Created) ? key.Created + _options.PropagationTime : key.Created;
                reports.Add(new KeyReport(key.Id, key.Algorithm, key.Created, signsFrom,
                    key.Created + _options.RotationInterval, key.Created + _options.RotationInterval + _options.RetentionDuration, status));
            }
        }

        return reports;
    }

    /// <summary>
    /// Creates a successor now, outside the schedule (an operator's "rotate"). It is published at once and signs
    /// after <see cref="KeyManagementOptions.PropagationTime"/>, like a scheduled successor; the schedule then
    /// counts from it.
    /// </summary>
    public async Task<string> RotateAsync(string algorithm, CancellationToken cancellationToken)
    {
        if (!_algorithms.Contains(algorithm))
        {
            throw new InvalidOperationException($"'{algorithm}' is not in KeyManagement.SigningAlgorithms ({string.Join(", ", _algorithms)}).");
        }

        // Same lock order as a refresh: this provider's lock, then the store's creation lock.
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var creationLock = await _store.LockForKeyCreationAsync(cancellationToken).ConfigureAwait(false);
            await using (creationLock.ConfigureAwait(false))
            {
                var (serialized, _) = await CreateAsync(algorithm, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                _ring = null;
                return serialized.Id;
            }
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    /// <summary>Removes a key from the store (a compromised key). Other nodes drop it at their next reload.</summary>
    /// <returns>False when no stored key has that id.</returns>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await _store.LoadKeysAsync(cancellationToken).ConfigureAwait(false);
            var key = stored.FirstOrDefault(k => string.Equals(k.Id, id, StringComparison.Ordinal));
            if (key is null)
            {
                return false;
            }

            await _store.DeleteKeyAsync(id, cancellationToken).ConfigureAwait(false);
            _loaded.Remove(id);
            _ring = null;
            KeyLog.KeyDeleted(_logger, id, key.Algorithm);
            return true;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    public void Dispose() => _refreshLock.Dispose();
}

/// <summary>Where a stored key stands now.</summary>
internal enum KeyStatus
{
    /// <summary>Published, not signing yet (propagating), or a newer key than the one signing.</summary>
    Announced,

    /// <summary>Signs new tokens for its algorithm.</summary>
    Signing,

    /// <summary>Past its rotation: published so tokens it signed still validate, until its retention ends.</summary>
    Retired,

    /// <summary>Past its retention: deleted at the next reload.</summary>
    Expired,

    /// <summary>Cannot be decrypted (Data Protection keys lost or changed) or read.</summary>
    Unreadable,

    /// <summary>Its algorithm is not in KeyManagement.SigningAlgorithms any more: neither published nor used.</summary>
    NotConfigured,
}

/// <summary>One stored key and its lifecycle dates.</summary>
internal sealed record KeyReport(string Id, string Algorithm, DateTimeOffset Created, DateTimeOffset SignsFrom,
    DateTimeOffset RetiresAt, DateTimeOffset DeletedAt, KeyStatus Status);
