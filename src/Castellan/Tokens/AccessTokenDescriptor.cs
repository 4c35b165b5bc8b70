namespace Castellan.Tokens;

/// <summary>
/// What goes into one access token, independent of the grant that produced it: subject and session for user
/// grants, confirmation for proof-of-possession, several audiences for several APIs.
/// </summary>
internal sealed class AccessTokenDescriptor
{
    public required string Issuer { get; init; }

    public required string ClientId { get; init; }

    /// <summary>RFC 9068 §2.2: the resource owner, or the client itself where none is involved.</summary>
    public required string Subject { get; init; }

    public required IReadOnlyList<string> Audiences { get; init; }

    public required IReadOnlyList<string> Scopes { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    public required int LifetimeSeconds { get; init; }

    /// <summary>Candidate signing algorithms in order of preference; empty means the server default.</summary>
    public IReadOnlyList<string> AllowedSigningAlgorithms { get; init; } = [];

    /// <summary>Extra claims, already named as they appear in the token, with their JSON types.</summary>
    public IReadOnlyList<TokenClaim> Claims { get; init; } = [];

    /// <summary>The user's session at the token service (<c>sid</c>), for tokens issued to a user.</summary>
    public string? SessionId { get; init; }

    /// <summary>When the user authenticated (<c>auth_time</c>, RFC 9068 §2.2.1); null for machine tokens.</summary>
    public DateTimeOffset? AuthTime { get; init; }

    /// <summary>Authentication context class reference (<c>acr</c>), for tokens issued to a user.</summary>
    public string? Acr { get; init; }

    /// <summary>Authentication methods (<c>amr</c>, RFC 8176), for tokens issued to a user.</summary>
    public IReadOnlyList<string> Amr { get; init; } = [];

    /// <summary>
    /// The confirmation claim (<c>cnf</c>, RFC 7800) as a JSON object, e.g. <c>{"jkt":"..."}</c> for DPoP
    /// (RFC 9449 §6) or <c>{"x5t#S256":"..."}</c> for mTLS (RFC 8705 §3.1); null for bearer tokens.
    /// </summary>
    public string? Confirmation { get; init; }

    /// <summary>The grant family a reference token joins (not a claim), so a replayed code or refresh token revokes it too.</summary>
    public string? GrantFamilyId { get; init; }
}
