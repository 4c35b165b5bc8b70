namespace Castellan.Security;

/// <summary>Settings of <see cref="DPoPProofValidator"/>.</summary>
/// <remarks>
/// Defaults: <see cref="AllowedAlgorithms"/> ES256, ES384, ES512, PS256, PS384, PS512, RS256; <see cref="IatWindow"/>
/// 60 seconds; <see cref="ClockSkew"/> zero; <see cref="MaxProofLength"/> 8,192 characters; <see cref="MaxJtiLength"/>
/// 128 characters; <see cref="KeyCacheSize"/> 1,024.
/// </remarks>
public sealed class DPoPProofValidationOptions
{
    /// <summary>
    /// The <c>alg</c> values a proof may use, also what to publish as <c>dpop_signing_alg_values_supported</c> and in
    /// a challenge's <c>algs</c>. Only asymmetric algorithms Microsoft.IdentityModel verifies are accepted: RS256,
    /// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512. <c>none</c> and the HMAC algorithms are refused at
    /// startup (RFC 9449 §4.3 step 5: a proof proves possession of a private key). EdDSA is not offered because
    /// Microsoft.IdentityModel does not verify it.
    /// </summary>
    public ICollection<string> AllowedAlgorithms { get; set; } =
        ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256"];

    /// <summary>
    /// How far a proof's <c>iat</c> may be from now, in either direction (RFC 9449 §4.3 step 11, §11.1): a proof is
    /// accepted from <c>iat − IatWindow</c> to <c>iat + IatWindow</c>, and its <c>jti</c> is remembered until the
    /// end of that. A longer window tolerates worse client clocks and costs replay-cache memory. Default 60 seconds.
    /// </summary>
    public TimeSpan IatWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Added to <see cref="IatWindow"/> on both sides, for a known clock difference. Default zero.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The longest proof read, in characters; a longer one is refused before it is parsed. A proof with an RSA
    /// 4096-bit key is about 2,000 characters. Default 8,192.
    /// </summary>
    public int MaxProofLength { get; set; } = 8192;

    /// <summary>The longest <c>jti</c> accepted, in characters. Default 128 (a UUID is 36).</summary>
    public int MaxJtiLength { get; set; } = 128;

    /// <summary>
    /// How many proof keys keep their imported form between requests, so a client's repeated proofs skip the key
    /// import (which costs more than the signature check). Bounded: the least recently added half is dropped when
    /// the cache fills. Zero imports every key every time. Default 1,024.
    /// </summary>
    public int KeyCacheSize { get; set; } = 1024;
}
