namespace Castellan.Security;

/// <summary>Settings of <see cref="DPoPNonces"/>.</summary>
/// <remarks>Defaults: <see cref="Lifetime"/> 5 minutes; <see cref="HmacKey"/> null (ASP.NET Core Data Protection).</remarks>
public sealed class DPoPNonceOptions
{
    /// <summary>
    /// How long a nonce is accepted, counted from the start of the time bucket it was issued in; a new nonce is
    /// issued every fifth of this, so a client that takes each new nonce (RFC 9449 §8.2) never sees its nonce
    /// refused. Default 5 minutes.
    /// </summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A secret of at least 32 bytes, the same on every node, to authenticate nonces with HMAC-SHA256: every node
    /// then issues the same nonce in a time bucket, and checking one costs one HMAC. When null, nonces are
    /// protected with ASP.NET Core Data Protection, whose key ring must then be shared by the nodes (as the token
    /// server's already is). Default null.
    /// </summary>
    public byte[]? HmacKey { get; set; }
}
