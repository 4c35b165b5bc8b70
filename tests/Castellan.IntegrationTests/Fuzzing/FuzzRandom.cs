namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// A small deterministic generator (SplitMix64) seeded from the run seed and the case number, so every case can be
/// rebuilt on its own and the same seed gives the same bytes on every machine and runtime version.
/// </summary>
internal sealed class FuzzRandom
{
    private ulong _state;

    public FuzzRandom(int seed, int caseNumber)
    {
        // Two rounds of mixing keep neighbouring (seed, case) pairs from starting on related streams.
        _state = ((ulong)(uint)seed << 32) | (uint)caseNumber;
        _state = NextUInt64() ^ 0x5DEECE66DUL;
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        var z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>0 ≤ result &lt; <paramref name="maxExclusive"/>.</summary>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)(NextUInt64() % (ulong)maxExclusive);
    }

    /// <summary><paramref name="min"/> ≤ result ≤ <paramref name="max"/>.</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    public bool OneIn(int n) => Next(n) == 0;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    public char Pick(string chars) => chars[Next(chars.Length)];

    /// <summary>0 ≤ result ≤ <paramref name="max"/>, spread over orders of magnitude so small and huge both come up often.</summary>
    public int Size(int max)
    {
        var bits = Next(BitLength(max) + 1);
        if (bits == 0)
        {
            return 0;
        }

        var low = 1L << (bits - 1);
        var high = Math.Min(max, (1L << bits) - 1);
        return (int)(low + (long)(NextUInt64() % (ulong)(high - low + 1)));
    }

    public string Chars(int length, string alphabet)
    {
        var chars = new char[length];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[Next(alphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>Random octets as wire text (one char per byte, see <see cref="WireText"/>).</summary>
    public string Octets(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)Next(256);
        }

        return new string(chars);
    }

    private static int BitLength(int value) => 32 - int.LeadingZeroCount(value);
}
