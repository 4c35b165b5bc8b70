using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Security;

/// <summary>
/// JWK thumbprints (RFC 7638): the SHA-256 of the key's required public members, in lexicographic order and without
/// whitespace. This is the <c>jkt</c> that binds a token to a DPoP key (RFC 9449 §6.1) and the value of
/// <c>dpop_jkt</c> (§10).
/// </summary>
/// <remarks>
/// Only the required members count (RFC 7638 §3.2): <c>crv</c>, <c>kty</c>, <c>x</c>, <c>y</c> for EC;
/// <c>e</c>, <c>kty</c>, <c>n</c> for RSA; <c>crv</c>, <c>kty</c>, <c>x</c> for OKP (RFC 8037 §2). <c>kid</c>,
/// <c>alg</c>, <c>use</c> and certificates do not, so one key has one thumbprint however it is published.
/// Member values are written as they are; a value holding a character JSON would escape (a quote, a backslash, a
/// control or non-ASCII character) cannot belong to a valid key and is refused.
/// </remarks>
public static class JwkThumbprint
{
    private const int StackLimit = 1024;

    /// <summary>Whether <paramref name="value"/> has the form of a SHA-256 thumbprint: 43 base64url characters, no padding.</summary>
    public static bool IsSha256Base64Url(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> hash = stackalloc byte[32];
        return value.Length == 43 && Base64UrlDecoder.TryDecode(value, hash, out var written) && written == 32;
    }

    /// <summary>The base64url (no padding) SHA-256 thumbprint of a public EC, RSA or OKP key.</summary>
    /// <exception cref="ArgumentException">The key has another <c>kty</c>, lacks a required member, or a member is not
    /// a valid value.</exception>
    public static string ComputeSha256Base64Url(JsonWebKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return TryComputeSha256Base64Url(key, out var thumbprint)
            ? thumbprint
            : throw new ArgumentException("The key has no RFC 7638 thumbprint: its kty is not EC, RSA or OKP, or a required member is missing or invalid.", nameof(key));
    }

    /// <summary>As <see cref="ComputeSha256Base64Url"/>, but returns false instead of throwing.</summary>
    public static bool TryComputeSha256Base64Url(JsonWebKey key, [NotNullWhen(true)] out string? thumbprint)
    {
        ArgumentNullException.ThrowIfNull(key);
        thumbprint = key.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.EllipticCurve => Compute("{\"crv\":\""u8, key.Crv, "\",\"kty\":\"EC\",\"x\":\""u8, key.X, "\",\"y\":\""u8, key.Y),
            JsonWebAlgorithmsKeyTypes.RSA => Compute("{\"e\":\""u8, key.E, "\",\"kty\":\"RSA\",\"n\":\""u8, key.N, default, null),
            "OKP" => Compute("{\"crv\":\""u8, key.Crv, "\",\"kty\":\"OKP\",\"x\":\""u8, key.X, default, null),
            _ => null,
        };
        return thumbprint is not null;
    }

    // The JSON is: part1 value1 part2 value2 [part3 value3] "}
    private static string? Compute(
        ReadOnlySpan<byte> part1, string? value1, ReadOnlySpan<byte> part2, string? value2, ReadOnlySpan<byte> part3, string? value3)
    {
        if (!IsMemberValue(value1) || !IsMemberValue(value2) || (!part3.IsEmpty && !IsMemberValue(value3)))
        {
            return null;
        }

        ReadOnlySpan<byte> end = "\"}"u8;
        var length = part1.Length + value1.Length + part2.Length + value2.Length + part3.Length + (value3?.Length ?? 0) + end.Length;
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = 0;
            Append(buffer, ref written, part1);
            Append(buffer, ref written, value1);
            Append(buffer, ref written, part2);
            Append(buffer, ref written, value2);
            if (!part3.IsEmpty)
            {
                Append(buffer, ref written, part3);
                Append(buffer, ref written, value3!);
            }

            Append(buffer, ref written, end);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);
            return Base64Url.EncodeToString(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool IsMemberValue([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < '\u0020' or > '\u007e' or '"' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    private static void Append(Span<byte> buffer, ref int written, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[written..]);
        written += bytes.Length;
    }

    // Only called with values IsMemberValue accepted: printable ASCII, one byte per character.
    private static void Append(Span<byte> buffer, ref int written, string ascii)
        => written += Encoding.ASCII.GetBytes(ascii, buffer[written..]);
}
