using System.Security.Cryptography;

namespace Castellan.Protocol;

/// <summary>Entity tags (RFC 9110 §8.8.3) for the documents this server publishes.</summary>
internal static class EntityTags
{
    /// <summary>A strong tag: the first 128 bits of the SHA-256 of the representation, in hex.</summary>
    public static string Of(ReadOnlySpan<byte> representation)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(representation, hash);
        return "\"" + Convert.ToHexString(hash[..16]) + "\"";
    }
}
