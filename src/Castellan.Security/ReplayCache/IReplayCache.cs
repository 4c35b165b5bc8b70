namespace Castellan.Security;

/// <summary>
/// Remembers one-time values (a DPoP proof's <c>jti</c>, a client assertion's <c>jti</c>) for as long as they could
/// be presented again, so each is accepted once. A store with an atomic insert-if-absent (Redis <c>SET NX</c>, a
/// unique key in a database) should implement this interface directly: that is the only way a cluster gets a strict
/// once-only guarantee (see <see cref="DistributedReplayCache"/>).
/// </summary>
public interface IReplayCache
{
    /// <summary>
    /// Records <paramref name="value"/> under <paramref name="purpose"/> until <paramref name="expiresAt"/>.
    /// </summary>
    /// <param name="purpose">Keeps kinds of values apart (<see cref="ReplayCachePurposes"/>): the same string used
    /// for two purposes is two entries.</param>
    /// <param name="expiresAt">The last moment the caller would still accept the value; it is remembered at least
    /// until then. A value whose expiry has already passed is not recorded and is reported as new, since the caller
    /// no longer accepts it anyway.</param>
    /// <returns><see langword="true"/> when this caller is the first to add the value; <see langword="false"/> when
    /// it was added before and has not expired, or when the cache cannot record it (treat both as a replay: accepting
    /// a value the cache could not record would let it be replayed).</returns>
    ValueTask<bool> TryAddAsync(string purpose, string value, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}

/// <summary>The purposes Castellan records values under.</summary>
public static class ReplayCachePurposes
{
    /// <summary>The <c>jti</c> of a DPoP proof (RFC 9449 §11.1), scoped to the proof's key.</summary>
    public const string DPoPProof = "dpop";

    /// <summary>The <c>jti</c> of a <c>private_key_jwt</c> or <c>client_secret_jwt</c> assertion (RFC 7523 §3).</summary>
    public const string ClientAssertion = "client_assertion";
}
