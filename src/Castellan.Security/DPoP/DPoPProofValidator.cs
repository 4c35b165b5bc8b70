using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Security;

/// <summary>
/// Validates a DPoP proof (RFC 9449 §4.3), for the token endpoint and for a protected resource alike. Bad input never
/// throws: every outcome is a <see cref="DPoPProofValidationResult"/>. Only a failing replay cache or nonce validator
/// (infrastructure) throws, and then no proof is accepted.
/// </summary>
/// <remarks>
/// The checks run cheapest first, so a hostile request costs as little as it can: count and length, JWS shape,
/// <c>typ</c>, <c>crit</c>, <c>alg</c>, the <c>jwk</c> (public, fitting the alg), the claims and their JSON types,
/// <c>htm</c>, <c>htu</c>, <c>iat</c>, <c>ath</c>, the expected key, then the signature, the nonce, and last the
/// <c>jti</c> in the replay cache, so only a proof that passed everything else uses a replay-cache entry.
/// The <c>jti</c> is recorded together with the proof's key thumbprint (<see cref="ReplayCachePurposes.DPoPProof"/>),
/// so one client cannot use up another client's <c>jti</c>; a proof replayed as it was always has the same key.
/// Thread-safe; one instance serves every request.
/// </remarks>
public sealed class DPoPProofValidator
{
    private const int StackLimit = 2048;

    /// <summary>The algorithms a proof may be allowed to use: asymmetric, and verified by Microsoft.IdentityModel.</summary>
    internal static readonly FrozenSet<string> VerifiableAlgorithms = FrozenSet.Create(StringComparer.Ordinal,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512);

    private readonly IReplayCache _replayCache;
    private readonly TimeProvider _timeProvider;
    private readonly FrozenSet<string> _allowedAlgorithms;
    private readonly TimeSpan _window;
    private readonly int _maxProofLength;
    private readonly int _maxJtiLength;
    private readonly SignatureProviderCache _verifiers;

    public DPoPProofValidator(IReplayCache replayCache, IOptions<DPoPProofValidationOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(replayCache);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var value = options.Value;
        OptionsGuard.ThrowIfInvalid(new DPoPProofValidationOptionsValidator(), value);
        _replayCache = replayCache;
        _timeProvider = timeProvider;
        SupportedAlgorithms = [.. value.AllowedAlgorithms.Distinct(StringComparer.Ordinal)];
        _allowedAlgorithms = SupportedAlgorithms.ToFrozenSet(StringComparer.Ordinal);
        _window = value.IatWindow + value.ClockSkew;
        _maxProofLength = value.MaxProofLength;
        _maxJtiLength = value.MaxJtiLength;
        _verifiers = new SignatureProviderCache(value.KeyCacheSize);
    }

    /// <summary>The allowed algorithms in the configured order: for <c>dpop_signing_alg_values_supported</c> and <c>algs</c>.</summary>
    public IReadOnlyList<string> SupportedAlgorithms { get; }

    public async ValueTask<DPoPProofValidationResult> ValidateAsync(DPoPProofValidationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(context.Method);
        ArgumentNullException.ThrowIfNull(context.RequestUri);

        var failure = Check(context, out var thumbprint, out var claims);
        if (failure is not null)
        {
            return failure;
        }

        if (context.NonceValidator is { } nonces)
        {
            if (claims.Nonce is null)
            {
                return DPoPProofFailures.NonceRequired;
            }

            if (!await nonces.IsValidAsync(claims.Nonce, cancellationToken).ConfigureAwait(false))
            {
                return DPoPProofFailures.InvalidNonce;
            }
        }

        // RFC 9449 §11.1: the jti is remembered for as long as the proof would pass the iat check.
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(claims.Iat);
        if (!await _replayCache.TryAddAsync(ReplayCachePurposes.DPoPProof, string.Concat(thumbprint, ".", claims.Jti), issuedAt + _window, cancellationToken)
                .ConfigureAwait(false))
        {
            return DPoPProofFailures.Replayed;
        }

        return DPoPProofValidationResult.Success(thumbprint, claims.Jti, issuedAt);
    }

    // Every check that needs no await.
    private DPoPProofValidationResult? Check(DPoPProofValidationContext context, out string thumbprint, out DPoPProofClaims claims)
    {
        thumbprint = string.Empty;
        claims = default;

        // RFC 9449 §4.3 steps 1 and 2: exactly one header, one well-formed JWS.
        var header = context.ProofHeader;
        if (header.Count == 0 || string.IsNullOrEmpty(header[0]))
        {
            return DPoPProofFailures.MissingProof;
        }

        if (header.Count > 1)
        {
            return DPoPProofFailures.MultipleProofs;
        }

        var proof = header[0]!;
        if (proof.Length > _maxProofLength)
        {
            return DPoPProofFailures.TooLong;
        }

        if (!IsCompactJws(proof, out var payloadStart, out var signatureStart))
        {
            return DPoPProofFailures.Malformed;
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(proof);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException or JsonException or FormatException or OverflowException)
        {
            return DPoPProofFailures.Malformed;
        }

        // Steps 4 and 5.
        if (!string.Equals(jwt.Typ, DPoPConstants.ProofType, StringComparison.Ordinal))
        {
            return DPoPProofFailures.InvalidType;
        }

        // RFC 7515 §4.1.11: no extension is understood here, so any critical one is refused.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return DPoPProofFailures.CriticalHeader;
        }

        var algorithm = jwt.Alg;
        if (algorithm is null || !_allowedAlgorithms.Contains(algorithm))
        {
            return DPoPProofFailures.AlgorithmNotAllowed;
        }

        // Step 7 (before the signature: a private key is refused however the proof is signed).
        var keyFailure = ReadKey(jwt, algorithm, out var key, out var keyThumbprint);
        if (keyFailure is not null)
        {
            return keyFailure;
        }

        thumbprint = keyThumbprint!;

        // Step 3.
        return DPoPProofClaims.TryRead(proof.AsSpan(payloadStart, signatureStart - payloadStart - 1), _maxJtiLength, out claims)
            ?? CheckClaims(context, claims, thumbprint)
            ?? VerifySignature(proof, signatureStart, key!, algorithm, thumbprint);
    }

    private DPoPProofValidationResult? CheckClaims(DPoPProofValidationContext context, in DPoPProofClaims claims, string thumbprint)
    {
        // Step 8: methods are case-sensitive (RFC 9110 §9.1).
        if (!string.Equals(claims.Htm, context.Method, StringComparison.Ordinal))
        {
            return DPoPProofFailures.MethodMismatch;
        }

        // Step 9.
        if (!HttpTargetUri.Matches(claims.Htu, context.RequestUri))
        {
            return DPoPProofFailures.UriMismatch;
        }

        // Step 11.
        var now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (claims.Iat < now - (long)_window.TotalSeconds)
        {
            return DPoPProofFailures.IssuedTooLongAgo;
        }

        if (claims.Iat > now + (long)_window.TotalSeconds)
        {
            return DPoPProofFailures.IssuedInTheFuture;
        }

        // Step 12.
        if (context.AccessToken is { } accessToken)
        {
            if (claims.Ath is null)
            {
                return DPoPProofFailures.MissingAccessTokenHash;
            }

            if (!AccessTokenHashMatches(claims.Ath, accessToken))
            {
                return DPoPProofFailures.AccessTokenHashMismatch;
            }
        }

        if (context.ExpectedThumbprint is { } expected && !string.Equals(expected, thumbprint, StringComparison.Ordinal))
        {
            return DPoPProofFailures.KeyMismatch;
        }

        return null;
    }

    private static DPoPProofValidationResult? ReadKey(JsonWebToken jwt, string algorithm, out JsonWebKey? key, out string? thumbprint)
    {
        key = null;
        thumbprint = null;
        if (!jwt.TryGetHeaderValue<JsonElement>(JwtHeaderParameterNames.Jwk, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return DPoPProofFailures.MissingKey;
        }

        try
        {
            key = new JsonWebKey(element.GetRawText());
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            return DPoPProofFailures.InvalidKey;
        }

        if (DPoPProofKey.HasPrivateMembers(key))
        {
            return DPoPProofFailures.PrivateKey;
        }

        if (!DPoPProofKey.FitsAlgorithm(key, algorithm) || !JwkThumbprint.TryComputeSha256Base64Url(key, out thumbprint))
        {
            return DPoPProofFailures.InvalidKey;
        }

        return null;
    }

    // Step 6, with Microsoft.IdentityModel's signature provider for the key.
    private DPoPProofValidationResult? VerifySignature(string proof, int signatureStart, JsonWebKey key, string algorithm, string thumbprint)
    {
        var provider = _verifiers.TryGet(thumbprint, algorithm);
        var cached = provider is not null;
        provider ??= DPoPProofKey.CreateVerifier(key, algorithm);
        if (provider is null)
        {
            return DPoPProofFailures.InvalidKey;
        }

        var valid = false;
        try
        {
            valid = Verify(provider, proof, signatureStart);
            return valid ? null : DPoPProofFailures.InvalidSignature;
        }
        finally
        {
            // Only keys that verified are kept, so a proof with a bad signature never takes a cache entry.
            if (!cached && !(valid && _verifiers.Add(thumbprint, algorithm, provider)))
            {
                provider.Dispose();
            }
        }
    }

    private static bool Verify(SignatureProvider provider, string proof, int signatureStart)
    {
        // The signing input is the ASCII of header.payload (RFC 7515 §5.2); IsCompactJws made sure it is ASCII.
        // One pooled buffer holds both, the signature first: Microsoft.IdentityModel 8.x ignores a non-zero
        // signature offset (it verifies the bytes at offset 0), while an input offset is honoured.
        var inputLength = signatureStart - 1;
        var signatureChars = proof.AsSpan(signatureStart);
        var maxSignatureLength = Base64Url.GetMaxDecodedLength(signatureChars.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(maxSignatureLength + inputLength);
        try
        {
            if (!Base64UrlDecoder.TryDecode(signatureChars, buffer.AsSpan(0, maxSignatureLength), out var signatureLength) || signatureLength == 0)
            {
                return false;
            }

            var written = Encoding.ASCII.GetBytes(proof.AsSpan(0, inputLength), buffer.AsSpan(signatureLength));
            return provider.Verify(buffer, signatureLength, written, buffer, 0, signatureLength);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or SecurityTokenException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool AccessTokenHashMatches(string ath, string accessToken)
    {
        // RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access token))). A token that is not ASCII has no such hash.
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes + 2];
        if (!Ascii.IsValid(accessToken)
            || !Base64UrlDecoder.TryDecode(ath, presented, out var presentedLength)
            || presentedLength != SHA256.HashSizeInBytes)
        {
            return false;
        }

        var length = accessToken.Length;
        byte[]? rented = null;
        var ascii = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.ASCII.GetBytes(accessToken, ascii);
            SHA256.HashData(ascii[..written], expected);
            return CryptographicOperations.FixedTimeEquals(expected, presented[..SHA256.HashSizeInBytes]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Three non-empty base64url segments separated by dots (RFC 7515 §7.1), checked before any parsing.</summary>
    private static bool IsCompactJws(string proof, out int payloadStart, out int signatureStart)
    {
        payloadStart = signatureStart = -1;
        var dots = 0;
        for (var i = 0; i < proof.Length; i++)
        {
            var c = proof[i];
            if (c == '.')
            {
                if (++dots > 2)
                {
                    return false;
                }

                if (dots == 1)
                {
                    payloadStart = i + 1;
                }
                else
                {
                    signatureStart = i + 1;
                }
            }
            else if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return dots == 2 && payloadStart > 1 && signatureStart > payloadStart + 1 && signatureStart < proof.Length;
    }
}
