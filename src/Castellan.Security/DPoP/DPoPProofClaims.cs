using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Castellan.Security;

/// <summary>
/// The claims of a proof's payload (RFC 9449 §4.2), each checked for its JSON type. Read from the payload's JSON
/// itself: Microsoft.IdentityModel's claim set turns a numeric string into a number, and a proof whose <c>iat</c> is
/// a string is malformed. A claim that appears twice is refused (RFC 7519 §4 allows refusing or taking the last).
/// </summary>
internal readonly struct DPoPProofClaims
{
    private const int StackLimit = 1024;

    public string Jti { get; private init; }

    public string Htm { get; private init; }

    public string Htu { get; private init; }

    public long Iat { get; private init; }

    public string? Ath { get; private init; }

    public string? Nonce { get; private init; }

    /// <returns>Null when the claims are usable, else the failure.</returns>
    public static DPoPProofValidationResult? TryRead(ReadOnlySpan<char> encodedPayload, int maxJtiLength, out DPoPProofClaims claims)
    {
        claims = default;
        var maxLength = Base64Url.GetMaxDecodedLength(encodedPayload.Length);
        byte[]? rented = null;
        var buffer = maxLength <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxLength));
        try
        {
            if (!Base64UrlDecoder.TryDecode(encodedPayload, buffer, out var written))
            {
                return DPoPProofFailures.Malformed;
            }

            return Read(buffer[..written], maxJtiLength, out claims);
        }
        catch (JsonException)
        {
            return DPoPProofFailures.Malformed;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    [Flags]
    private enum Seen
    {
        None = 0,
        Jti = 1,
        Htm = 2,
        Htu = 4,
        Iat = 8,
        Ath = 16,
        Nonce = 32,
    }

    private static DPoPProofValidationResult? Read(ReadOnlySpan<byte> json, int maxJtiLength, out DPoPProofClaims claims)
    {
        claims = default;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return DPoPProofFailures.Malformed;
        }

        string? jti = null, htm = null, htu = null, ath = null, nonce = null;
        long iat = 0;
        var seen = Seen.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var claim = Claim(ref reader);
            if (claim != Seen.None && (seen & claim) != 0)
            {
                return DPoPProofFailures.DuplicateClaim;
            }

            seen |= claim;
            reader.Read();
            var failure = claim switch
            {
                Seen.Jti => ReadString(ref reader, maxJtiLength, DPoPProofFailures.InvalidJti, out jti),
                Seen.Htm => ReadString(ref reader, int.MaxValue, DPoPProofFailures.InvalidHtm, out htm),
                Seen.Htu => ReadString(ref reader, int.MaxValue, DPoPProofFailures.InvalidHtu, out htu),
                Seen.Iat => ReadNumericDate(ref reader, out iat),
                Seen.Ath => ReadString(ref reader, int.MaxValue, DPoPProofFailures.InvalidAth, out ath),
                Seen.Nonce => ReadString(ref reader, int.MaxValue, DPoPProofFailures.InvalidNonceClaim, out nonce),
                _ => Skip(ref reader),
            };
            if (failure is not null)
            {
                return failure;
            }
        }

        // RFC 9449 §4.2: jti, htm, htu and iat are required.
        if (jti is null)
        {
            return DPoPProofFailures.InvalidJti;
        }

        if (htm is null)
        {
            return DPoPProofFailures.InvalidHtm;
        }

        if (htu is null)
        {
            return DPoPProofFailures.InvalidHtu;
        }

        if ((seen & Seen.Iat) == 0)
        {
            return DPoPProofFailures.InvalidIat;
        }

        claims = new DPoPProofClaims { Jti = jti, Htm = htm, Htu = htu, Iat = iat, Ath = ath, Nonce = nonce };
        return null;
    }

    private static Seen Claim(ref Utf8JsonReader reader)
    {
        // Escaped names (\u006ati) are rare enough to take the slow path.
        if (reader.ValueIsEscaped)
        {
            return reader.GetString() switch
            {
                "jti" => Seen.Jti,
                "htm" => Seen.Htm,
                "htu" => Seen.Htu,
                "iat" => Seen.Iat,
                "ath" => Seen.Ath,
                "nonce" => Seen.Nonce,
                _ => Seen.None,
            };
        }

        var name = reader.ValueSpan;
        return name.SequenceEqual("jti"u8) ? Seen.Jti
            : name.SequenceEqual("htm"u8) ? Seen.Htm
            : name.SequenceEqual("htu"u8) ? Seen.Htu
            : name.SequenceEqual("iat"u8) ? Seen.Iat
            : name.SequenceEqual("ath"u8) ? Seen.Ath
            : name.SequenceEqual("nonce"u8) ? Seen.Nonce
            : Seen.None;
    }

    private static DPoPProofValidationResult? ReadString(ref Utf8JsonReader reader, int maxLength, DPoPProofValidationResult invalid, out string? value)
    {
        value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return string.IsNullOrEmpty(value) || value.Length > maxLength ? invalid : null;
    }

    private static DPoPProofValidationResult? ReadNumericDate(ref Utf8JsonReader reader, out long seconds)
    {
        seconds = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            return DPoPProofFailures.InvalidIat;
        }

        // RFC 7519 §2: a NumericDate may have a fraction; it is dropped.
        if (!reader.TryGetInt64(out seconds))
        {
            if (!reader.TryGetDouble(out var fractional) || !double.IsFinite(fractional) || Math.Abs(fractional) >= long.MaxValue)
            {
                return DPoPProofFailures.InvalidIat;
            }

            seconds = (long)Math.Floor(fractional);
        }

        return seconds < 0 || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds() ? DPoPProofFailures.InvalidIat : null;
    }

    private static DPoPProofValidationResult? Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }
}
