using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Security;

/// <summary>
/// Verifiers of proof keys seen recently, keyed by (thumbprint, alg). A thumbprint covers every member the key is
/// built from (see <see cref="DPoPProofKey.CreateVerifier"/>), so an entry serves exactly the key it was made for.
/// </summary>
/// <remarks>
/// Two generations of at most half the capacity each: entries go into the current one; when it fills, it becomes
/// the previous one and the old previous one is dropped. A hit in the previous generation moves the entry forward,
/// so keys in use survive and a flood of one-off keys costs only the other entries' next import. Lookups take no
/// lock. Dropped providers are left to the finalizer rather than disposed: another thread may still be verifying
/// with one.
/// </remarks>
internal sealed class SignatureProviderCache
{
    private readonly int _generationSize;
    private readonly Lock _lock = new();
    private Generation _current = new();
    private Generation _previous = new();

    public SignatureProviderCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _generationSize = capacity / 2;
    }

    public bool Enabled => _generationSize > 0;

    public SignatureProvider? TryGet(string thumbprint, string algorithm)
    {
        var key = (thumbprint, algorithm);
        if (Volatile.Read(ref _current).Entries.TryGetValue(key, out var provider))
        {
            return provider;
        }

        if (Volatile.Read(ref _previous).Entries.TryGetValue(key, out provider))
        {
            Add(thumbprint, algorithm, provider);
            return provider;
        }

        return null;
    }

    /// <returns>Whether the cache kept the provider (the caller then must not dispose it).</returns>
    public bool Add(string thumbprint, string algorithm, SignatureProvider provider)
    {
        if (!Enabled)
        {
            return false;
        }

        var generation = Volatile.Read(ref _current);
        if (!generation.Entries.TryAdd((thumbprint, algorithm), provider))
        {
            // Another thread cached this key first; that one is kept and this one is the caller's.
            return false;
        }

        if (Interlocked.Increment(ref generation.Count) >= _generationSize)
        {
            lock (_lock)
            {
                if (ReferenceEquals(_current, generation))
                {
                    Volatile.Write(ref _previous, generation);
                    Volatile.Write(ref _current, new Generation());
                }
            }
        }

        return true;
    }

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<(string Thumbprint, string Algorithm), SignatureProvider> Entries = new();
        public int Count;
    }
}
