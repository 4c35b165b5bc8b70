namespace Castellan.Security;

/// <summary>Settings of the replay caches.</summary>
/// <remarks>Defaults: <see cref="MaxEntries"/> 100,000; <see cref="KeyPrefix"/> <c>castellan:replay:</c>.</remarks>
public sealed class ReplayCacheOptions
{
    /// <summary>
    /// The most values <see cref="InMemoryReplayCache"/> holds at once (about 100 bytes each). When it is full of
    /// values that have not expired, new values are refused (reported as replays) rather than old ones forgotten,
    /// since forgetting a live value would let it be replayed; a warning is logged. Default 100,000: with the default
    /// 60-second DPoP window a proof is held for 60 to 120 seconds, so about 800 to 1,600 new proofs a second per node.
    /// </summary>
    public int MaxEntries { get; set; } = 100_000;

    /// <summary>
    /// Put before every key <see cref="DistributedReplayCache"/> writes, so its entries do not collide with other
    /// users of the same cache. Default <c>castellan:replay:</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "castellan:replay:";
}
