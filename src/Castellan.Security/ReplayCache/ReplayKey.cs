using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Castellan.Security;

/// <summary>
/// SHA-256 of a (purpose, value) pair: a fixed-size key, so a cache entry costs the same whatever the caller sent,
/// and nothing the caller sent is kept. The purpose's length is hashed first, so no two pairs share an input.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ReplayKey(ulong A, ulong B, ulong C, ulong D)
{
    private const int StackLimit = 512;

    public static ReplayKey Compute(string purpose, string value)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(purpose, value, hash);
        return MemoryMarshal.Read<ReplayKey>(hash);
    }

    public static void Hash(string purpose, string value, Span<byte> destination)
    {
        var length = sizeof(int) + Encoding.UTF8.GetMaxByteCount(purpose.Length) + Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var purposeLength = Encoding.UTF8.GetBytes(purpose, buffer[sizeof(int)..]);
            BinaryPrimitives.WriteInt32LittleEndian(buffer, purposeLength);
            var written = sizeof(int) + purposeLength;
            written += Encoding.UTF8.GetBytes(value, buffer[written..]);
            SHA256.HashData(buffer[..written], destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>
/// The key a shared replay cache stores a (purpose, value) pair under: the base64url SHA-256 of both (43 characters),
/// so stores keep no value as sent and every node computes the same key.
/// </summary>
public static class ReplayCacheKey
{
    /// <summary>The key of <paramref name="value"/> under <paramref name="purpose"/>.</summary>
    public static string For(string purpose, string value)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        ReplayKey.Hash(purpose, value, hash);
        return Base64Url.EncodeToString(hash);
    }
}
