using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace Castellan.ApiProtection;

/// <summary>
/// JWTs this API has already validated against one discovery document, so a client that reuses its access token
/// (as clients do, for its whole lifetime) pays for the signature check once. An entry is trusted exactly as far as
/// the validation it stands for: it belongs to the key set it was checked against (a new discovery document starts
/// an empty cache), and its lifetime is checked again on every hit. Keys are SHA-256 hashes, so the cache holds no
/// bearer credentials. Only successes are cached; a bad token is validated (and refused) every time.
/// </summary>
internal sealed class ValidatedJwtCache(int capacity)
{
    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();

    internal sealed record Entry(ClaimsIdentity Identity, DateTimeOffset NotBefore, DateTimeOffset Expires);

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
    public ClaimsIdentity? TryGet(in TokenHash key, DateTimeOffset now, TimeSpan clockSkew)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (now - clockSkew > entry.Expires || now + clockSkew < entry.NotBefore)
        {
            // Expired (or, after a clock change, not yet valid): validate in full, which gives the precise error.
            _entries.TryRemove(key, out _);
            return null;
        }

        return entry.Identity.Clone();
    }

    public void Add(in TokenHash key, ClaimsIdentity identity, DateTimeOffset notBefore, DateTimeOffset expires)
    {
        if (_entries.Count >= capacity)
        {
            // Bounded memory without bookkeeping per hit: start over. Only tokens this server issued and that
            // validated get here, so refilling costs one validation per token in use.
            _entries.Clear();
        }

        _entries[key] = new Entry(identity.Clone(), notBefore, expires);
    }

    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct TokenHash(UInt128 High, UInt128 Low);
}
