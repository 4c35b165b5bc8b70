using System.Buffers;
using System.Buffers.Text;

namespace Castellan.Security;

internal static class Base64UrlDecoder
{
    /// <summary>
    /// Decodes without throwing: <see cref="Base64Url.TryDecodeFromChars(ReadOnlySpan{char}, Span{byte}, out int)"/>
    /// returns false only for a short destination and throws on a character outside the alphabet, which on these
    /// paths comes from the client.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination, out int written)
        => Base64Url.DecodeFromChars(source, destination, out _, out written) == OperationStatus.Done;
}
