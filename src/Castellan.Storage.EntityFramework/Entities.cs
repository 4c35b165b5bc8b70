namespace Castellan.Storage.EntityFramework;

// The tables. Times are UTC DateTime (timestamptz on PostgreSQL, ISO-8601 text on SQLite, which sorts and compares
// as time does), so expiry filters run in the database on both providers.

/// <summary>A row of <c>PersistedGrants</c>: a code, refresh token, reference token or remembered consent, keyed by the hash of its handle.</summary>
public sealed class PersistedGrantRow
{
    public string Key { get; set; } = "";

    public string Type { get; set; } = "";

    public string ClientId { get; set; } = "";

    public string? SubjectId { get; set; }

    public string? SessionId { get; set; }

    public string? FamilyId { get; set; }

    public DateTime CreationTime { get; set; }

    public DateTime Expiration { get; set; }

    public DateTime? ConsumedTime { get; set; }

    public string Data { get; set; } = "";
}

/// <summary>A row of <c>SigningKeys</c>: an automatically managed signing key, its private part Data-Protection encrypted.</summary>
public sealed class SigningKeyRow
{
    public string Id { get; set; } = "";

    public string Algorithm { get; set; } = "";

    public DateTime Created { get; set; }

    public bool DataProtected { get; set; }

    public string Data { get; set; } = "";
}

/// <summary>
/// A row of <c>Clients</c>, <c>ApiScopes</c>, <c>ApiResources</c> or <c>IdentityResources</c>: the item as the JSON
/// the host's configuration file uses for it (secrets hashed), so that new settings need no schema change and an
/// export reads like the file.
/// </summary>
public sealed class ConfigurationRow
{
    /// <summary>The client id, or the scope's or resource's name.</summary>
    public string Name { get; set; } = "";

    public string Json { get; set; } = "";

    public DateTime Updated { get; set; }
}

/// <summary>The one row of <c>ConfigurationState</c>: a counter every configuration write increments, so nodes find out cheaply whether to read again.</summary>
public sealed class ConfigurationStateRow
{
    public int Id { get; set; }

    public long Version { get; set; }
}

/// <summary>A row of <c>Leases</c>: a named lock held by one node until it releases it or the lease runs out (a node that died).</summary>
public sealed class LeaseRow
{
    public string Name { get; set; } = "";

    public string Holder { get; set; } = "";

    public DateTime Expires { get; set; }
}

/// <summary>A row of <c>ServerSideSessions</c>: one single sign-on session, its ticket encrypted; the cookie holds only <see cref="Key"/>.</summary>
public sealed class ServerSideSessionRow
{
    public string Key { get; set; } = "";

    public string? SubjectId { get; set; }

    /// <summary>The session's <c>sid</c>, as in id_tokens and logout tokens.</summary>
    public string? SessionId { get; set; }

    public DateTime Created { get; set; }

    public DateTime Renewed { get; set; }

    public DateTime? Expires { get; set; }

    public byte[] Data { get; set; } = [];
}

/// <summary>A row of <c>BackChannelLogoutDeliveries</c>: a logout token still to deliver to one client; <see cref="NextAttempt"/> is also the claim of the node delivering it.</summary>
public sealed class BackChannelLogoutRow
{
    public string Id { get; set; } = "";

    public string Issuer { get; set; } = "";

    public string ClientId { get; set; } = "";

    public string Uri { get; set; } = "";

    public string SubjectId { get; set; } = "";

    public string? SessionId { get; set; }

    public int Attempts { get; set; }

    public DateTime NextAttempt { get; set; }

    public DateTime Created { get; set; }

    /// <summary>Who claimed it last (a random id per claim), so a node reads back exactly what it claimed.</summary>
    public string? Claimant { get; set; }
}

/// <summary>
/// A row of <c>ReplayEntries</c>: a one-time value (a DPoP proof's or a client assertion's <c>jti</c>) some node
/// accepted, kept until <see cref="Expires"/> so that no node accepts it again.
/// </summary>
public sealed class ReplayEntryRow
{
    /// <summary>The base64url SHA-256 of purpose and value (<see cref="Castellan.Security.ReplayCacheKey"/>): the value as sent is not kept.</summary>
    public string Key { get; set; } = "";

    public DateTime Expires { get; set; }
}
