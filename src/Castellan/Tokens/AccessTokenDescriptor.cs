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

    /// <summary>Extra claims, already named as they appear in the token.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Claims { get; init; } = [];

    public string? SessionId { get; init; }
}
