using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Castellan.Security;

/// <summary>
/// Stateless DPoP server nonces (RFC 9449 §8, §9): a nonce is the start of a time bucket, authenticated, so any node
/// with the same key accepts any node's nonce and nothing is stored. A nonce is accepted for
/// <see cref="DPoPNonceOptions.Lifetime"/> from the start of its bucket; a bucket is a fifth of that.
/// </summary>
/// <remarks>
/// <para>Send <see cref="GetCurrentNonce"/> in the <c>DPoP-Nonce</c> header with a <c>use_dpop_nonce</c> error, and
/// on any response when it changes; pass this instance as <see cref="DPoPProofValidationContext.NonceValidator"/>.</para>
/// <para>A nonce proves when the server issued it, not to whom: it limits how far ahead a stolen key's holder can
/// make proofs (§11.2), and it is not a secret. With <see cref="DPoPNonceOptions.HmacKey"/> a nonce is
/// base64url(version ‖ bucket start ‖ HMAC-SHA256), 55 characters, the same on every node. With Data Protection a
/// nonce is the version and bucket start protected with the purpose <c>Castellan.Security.DPoPNonce.v1</c>; nodes
/// issue different strings for one bucket, each accepted by all. A nonce from a node whose clock runs up to one
/// bucket ahead is accepted.</para>
/// </remarks>
public sealed class DPoPNonces : IDPoPNonceValidator
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + sizeof(long);
    private const int MaxNonceLength = 512;
    private const string Purpose = "Castellan.Security.DPoPNonce.v1";

    private readonly TimeProvider _timeProvider;
    private readonly long _lifetimeSeconds;
    private readonly long _bucketSeconds;
    private readonly byte[]? _hmacKey;
    private readonly IDataProtector? _protector;
    private CurrentNonce? _current;

    public DPoPNonces(IOptions<DPoPNonceOptions> options, TimeProvider timeProvider, IDataProtectionProvider? dataProtectionProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var value = options.Value;
        OptionsGuard.ThrowIfInvalid(new DPoPNonceOptionsValidator(), value);
        _timeProvider = timeProvider;
        _lifetimeSeconds = (long)value.Lifetime.TotalSeconds;
        _bucketSeconds = Math.Max(1, _lifetimeSeconds / 5);
        if (value.HmacKey is { } key)
        {
            _hmacKey = [.. key];
        }
        else
        {
            _protector = dataProtectionProvider?.CreateProtector(Purpose)
                ?? throw new InvalidOperationException("DPoP nonces need DPoPNonceOptions.HmacKey or ASP.NET Core Data Protection (services.AddDataProtection(), with a key ring the nodes share).");
        }
    }

    /// <summary>The nonce to send now. The same string for a whole bucket on this node, computed once per bucket.</summary>
    public string GetCurrentNonce()
    {
        var bucket = BucketStart(_timeProvider.GetUtcNow().ToUnixTimeSeconds());
        var current = Volatile.Read(ref _current);
        if (current is null || current.BucketStart != bucket)
        {
            current = new CurrentNonce(bucket, Create(bucket));
            Volatile.Write(ref _current, current);
        }

        return current.Value;
    }

    /// <summary>Whether the nonce was issued with this key and is within its lifetime. Never throws for bad input.</summary>
    public bool IsValid(string nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > MaxNonceLength)
        {
            return false;
        }

        var current = Volatile.Read(ref _current);
        var issued = current is not null && string.Equals(current.Value, nonce, StringComparison.Ordinal)
            ? current.BucketStart
            : ReadBucketStart(nonce);
        if (issued is not { } start)
        {
            return false;
        }

        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        return start <= now + _bucketSeconds && now - start <= _lifetimeSeconds;
    }

    ValueTask<bool> IDPoPNonceValidator.IsValidAsync(string nonce, CancellationToken cancellationToken) => new(IsValid(nonce));

    private long BucketStart(long seconds) => seconds - (seconds % _bucketSeconds);

    private string Create(long bucketStart)
    {
        Span<byte> payload = stackalloc byte[PayloadLength];
        WritePayload(payload, bucketStart);
        if (_hmacKey is not null)
        {
            Span<byte> nonce = stackalloc byte[PayloadLength + HMACSHA256.HashSizeInBytes];
            payload.CopyTo(nonce);
            Mac(payload, nonce[PayloadLength..]);
            return Base64Url.EncodeToString(nonce);
        }

        return Base64Url.EncodeToString(_protector!.Protect(payload.ToArray()));
    }

    private long? ReadBucketStart(string nonce)
    {
        if (_hmacKey is not null)
        {
            Span<byte> bytes = stackalloc byte[PayloadLength + HMACSHA256.HashSizeInBytes + 2];
            if (!Base64UrlDecoder.TryDecode(nonce, bytes, out var written) || written != PayloadLength + HMACSHA256.HashSizeInBytes)
            {
                return null;
            }

            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            Mac(bytes[..PayloadLength], mac);
            return CryptographicOperations.FixedTimeEquals(mac, bytes[PayloadLength..written]) ? ReadPayload(bytes[..PayloadLength]) : null;
        }

        Span<byte> protectedBytes = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxNonceLength)];
        if (!Base64UrlDecoder.TryDecode(nonce, protectedBytes, out var length))
        {
            return null;
        }

        try
        {
            var payload = _protector!.Unprotect(protectedBytes[..length].ToArray());
            return payload.Length == PayloadLength ? ReadPayload(payload) : null;
        }
        catch (CryptographicException)
        {
            // Tampered, from another key ring, or not a nonce at all.
            return null;
        }
    }

    private void Mac(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        // The purpose goes into the MAC, so a key that is also used elsewhere cannot make a nonce by accident.
        Span<byte> input = stackalloc byte[Purpose.Length + PayloadLength];
        System.Text.Encoding.ASCII.GetBytes(Purpose, input);
        payload.CopyTo(input[Purpose.Length..]);
        HMACSHA256.HashData(_hmacKey, input, destination);
    }

    private static void WritePayload(Span<byte> payload, long bucketStart)
    {
        payload[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(payload[1..], bucketStart);
    }

    private static long? ReadPayload(ReadOnlySpan<byte> payload)
        => payload[0] == Version ? BinaryPrimitives.ReadInt64BigEndian(payload[1..]) : null;

    private sealed record CurrentNonce(long BucketStart, string Value);
}
