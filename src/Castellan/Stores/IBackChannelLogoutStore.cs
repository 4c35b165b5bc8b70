namespace Castellan.Stores;

/// <summary>
/// A durable queue of back-channel logout deliveries, shared by the nodes: a logout's notifications survive the
/// node that accepted it, and whichever node is free delivers them. Without one, the queue is in memory.
/// </summary>
/// <remarks>
/// A claimed delivery is hidden from other nodes until its claim runs out, so a node that dies mid-delivery hands it
/// on to the others after the claim, and two nodes never deliver the same one at the same time.
/// </remarks>
public interface IBackChannelLogoutStore
{
    Task AddAsync(IReadOnlyList<PendingBackChannelLogout> deliveries, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="max"/> deliveries due at <paramref name="now"/> for this caller alone: each one's
    /// <see cref="PendingBackChannelLogout.NextAttempt"/> moves to <paramref name="claimUntil"/>, so nobody else sees
    /// it before then.
    /// </summary>
    Task<IReadOnlyList<PendingBackChannelLogout>> ClaimAsync(DateTimeOffset now, DateTimeOffset claimUntil, int max, CancellationToken cancellationToken);

    /// <summary>Delivered, or given up.</summary>
    Task RemoveAsync(string id, CancellationToken cancellationToken);

    /// <summary>An attempt failed: try again at <paramref name="nextAttempt"/>.</summary>
    Task RescheduleAsync(string id, int attempts, DateTimeOffset nextAttempt, CancellationToken cancellationToken);
}

/// <summary>One logout token still to deliver to one client.</summary>
public sealed record PendingBackChannelLogout
{
    public required string Id { get; init; }

    public required string Issuer { get; init; }

    public required string ClientId { get; init; }

    /// <summary>The client's <c>BackChannelLogoutUri</c>.</summary>
    public required string Uri { get; init; }

    public required string SubjectId { get; init; }

    /// <summary>The <c>sid</c>, when the client wants it (<c>BackChannelLogoutSessionRequired</c>).</summary>
    public string? SessionId { get; init; }

    /// <summary>Attempts made so far.</summary>
    public int Attempts { get; init; }

    public required DateTimeOffset NextAttempt { get; init; }

    public required DateTimeOffset Created { get; init; }
}
