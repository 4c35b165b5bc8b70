using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Castellan.Security;

namespace Castellan.ApiProtection;

/// <summary>
/// JWTs this API has already validated against one discovery document, so a client that reuses its access token
/// (as clients do, for its whole lifetime) pays for the signature check once. An entry is trusted exactly as far as
/// the validation it stands for: it belongs to the key set it was checked against (a new discovery document starts
/// an empty cache), and its lifetime is checked again on every hit. Keys are SHA-256 hashes, so the cache holds no
/// bearer credentials. Only successes are cached; a bad token is validated (and refused) every time.
/// </summary>
/// <remarks>
/// Bounded by CLOCK (second-chance) eviction. Reads are lock-free: a hit is one dictionary lookup and, the first
/// time after a sweep passed the entry, one plain write of its referenced bit. Adds, removals and eviction run under
/// one lock; they follow a full signature validation, which costs far more than the lock. When the cache is full,
/// expired entries go first (they can never be served again), then the clock hand gives every entry hit since it
/// last passed a second chance and evicts the others, so tokens in use stay while one-off tokens make room.
/// The count never exceeds the capacity.
/// </remarks>
internal sealed class ValidatedJwtCache
{
    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();
    private readonly int _capacity;
    private readonly TimeSpan _clockSkew;
    private readonly int _evictionBatch;
    private readonly Lock _lock = new();

    // Guarded by _lock. The ring holds every entry in the slot the clock hand visits; it grows up to the capacity,
    // so a cache that never fills never allocates for its full size.
    private readonly List<Entry?> _ring = [];
    private readonly Stack<int> _freeSlots = new();
    private int _hand;
    private int _count;
    private DateTimeOffset _earliestExpiry = DateTimeOffset.MaxValue;

    public ValidatedJwtCache(int capacity, TimeSpan clockSkew)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _clockSkew = clockSkew;
        // Evicting a batch at a time keeps the expired-entry scan (one pass over the ring) to once per batch of adds.
        _evictionBatch = Math.Max(1, capacity / 16);
    }

    /// <summary>Entries held now; never more than the capacity.</summary>
    public int Count => Volatile.Read(ref _count);

    internal sealed class Entry(TokenHash key, ClaimsIdentity identity, TokenBinding binding, DateTimeOffset notBefore, DateTimeOffset expires, int slot)
    {
        public TokenHash Key { get; } = key;

        public ClaimsIdentity Identity { get; } = identity;

        /// <summary>The token's <c>cnf</c>, read once: a hit skips the signature check, never the proof of possession.</summary>
        public TokenBinding Binding { get; } = binding;

        public DateTimeOffset NotBefore { get; } = notBefore;

        public DateTimeOffset Expires { get; } = expires;

        /// <summary>The ring slot; fixed for the entry's life.</summary>
        public int Slot { get; } = slot;

        // Set by a hit, cleared by the clock hand. A plain field on purpose: two threads racing on it can only lose
        // an entry its second chance, never corrupt the cache, so the hit path needs no interlocked operation.
        public bool Referenced;
    }

    public static TokenHash Hash(string token)
    {
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var buffer = length <= 4096 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(token, buffer);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);
            return MemoryMarshal.Read<TokenHash>(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <returns>A fresh copy of the cached identity (callers and hooks may change it), or null on a miss or when the
    /// token is outside its lifetime now.</returns>
    public ClaimsIdentity? TryGet(in TokenHash key, DateTimeOffset now) => TryGet(key, now, out _);

    /// <param name="binding">The token's binding, which the caller must still check against this request.</param>
    public ClaimsIdentity? TryGet(in TokenHash key, DateTimeOffset now, out TokenBinding binding)
    {
        binding = default;
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (now - _clockSkew > entry.Expires || now + _clockSkew < entry.NotBefore)
        {
            // Expired (or, after a clock change, not yet valid): validate in full, which gives the precise error.
            Remove(entry);
            return null;
        }

        // Only write when the bit is clear, so hot entries' cache lines stay shared between cores.
        if (!entry.Referenced)
        {
            entry.Referenced = true;
        }

        binding = entry.Binding;
        return entry.Identity.Clone();
    }

    public void Add(in TokenHash key, ClaimsIdentity identity, DateTimeOffset notBefore, DateTimeOffset expires, DateTimeOffset now)
        => Add(key, identity, TokenBinding.None, notBefore, expires, now);

    public void Add(in TokenHash key, ClaimsIdentity identity, TokenBinding binding, DateTimeOffset notBefore, DateTimeOffset expires, DateTimeOffset now)
    {
        var copy = identity.Clone();
        lock (_lock)
        {
            if (_entries.ContainsKey(key))
            {
                // Two requests with the same new token both validated it: one entry is enough, and it is the same.
                return;
            }

            if (_count >= _capacity)
            {
                Evict(now);
            }

            int slot;
            if (_freeSlots.Count > 0)
            {
                slot = _freeSlots.Pop();
            }
            else
            {
                slot = _ring.Count;
                _ring.Add(null);
            }

            var entry = new Entry(key, copy, binding, notBefore, expires, slot);
            _ring[slot] = entry;
            _entries[key] = entry;
            Volatile.Write(ref _count, _count + 1);
            if (expires < _earliestExpiry)
            {
                _earliestExpiry = expires;
            }
        }
    }

    private void Remove(Entry entry)
    {
        lock (_lock)
        {
            // Another thread may have removed it (same expired token) or evicted it already.
            if (ReferenceEquals(_ring[entry.Slot], entry))
            {
                RemoveLocked(entry);
            }
        }
    }

    private void RemoveLocked(Entry entry)
    {
        _entries.TryRemove(new KeyValuePair<TokenHash, Entry>(entry.Key, entry));
        _ring[entry.Slot] = null;
        _freeSlots.Push(entry.Slot);
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>Frees at least one slot (a batch, when the cache is large). Called under the lock on a full cache.</summary>
    private void Evict(DateTimeOffset now)
    {
        var freed = 0;
        if (now - _clockSkew > _earliestExpiry)
        {
            // At least one entry is past its lifetime: drop them all first, and learn the next earliest expiry.
            var earliest = DateTimeOffset.MaxValue;
            for (var i = 0; i < _ring.Count; i++)
            {
                if (_ring[i] is not { } entry)
                {
                    continue;
                }

                if (now - _clockSkew > entry.Expires)
                {
                    RemoveLocked(entry);
                    freed++;
                }
                else if (entry.Expires < earliest)
                {
                    earliest = entry.Expires;
                }
            }

            _earliestExpiry = earliest;
        }

        // Second chance: a referenced entry loses its bit and stays, an unreferenced one goes. Ends within two turns
        // of the ring, since the first turn clears every bit. _earliestExpiry stays a lower bound after evictions,
        // which at worst costs one scan that finds nothing.
        while (freed < _evictionBatch && _count > 0)
        {
            if (_hand >= _ring.Count)
            {
                _hand = 0;
            }

            if (_ring[_hand] is { } entry)
            {
                if (entry.Referenced)
                {
                    entry.Referenced = false;
                }
                else
                {
                    RemoveLocked(entry);
                    freed++;
                }
            }

            _hand++;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct TokenHash(UInt128 High, UInt128 Low);
}
