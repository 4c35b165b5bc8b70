using Castellan.Clients;
using Castellan.Resources;

namespace Castellan.Endpoints.Token;

/// <summary>
/// A token request that passed every check. Each grant has its own subtype carrying exactly what that
/// grant needs, so the generator never guesses which fields are set.
/// </summary>
internal abstract record ValidatedTokenRequest(ValidatedClient Client, string Issuer, GrantedResources Resources)
{
    public abstract string GrantType { get; }

    /// <summary>
    /// The token's <c>sub</c>: the user a grant acts for, or, where no user is involved, the client itself
    /// (RFC 9068 §2.2). User grants override it.
    /// </summary>
    public virtual string Subject => Client.Client.ClientId;

    /// <summary>The user's session at the token service (<c>sid</c>); null where no user is involved.</summary>
    public virtual string? SessionId => null;

    /// <summary>
    /// The thumbprint of the DPoP proof's key the access token is bound to (<c>cnf.jkt</c>, RFC 9449 §6.1); null
    /// for a bearer token.
    /// </summary>
    public string? DPoPKeyThumbprint { get; init; }

    /// <summary>The <c>x5t#S256</c> of the client certificate the access token is bound to (<c>cnf</c>, RFC 8705 §3.1); null when it is not.</summary>
    public string? CertificateThumbprint { get; init; }
}

/// <summary>RFC 6749 §4.4: the client acting on its own behalf.</summary>
internal sealed record ValidatedClientCredentialsRequest(ValidatedClient Client, string Issuer, GrantedResources Resources)
    : ValidatedTokenRequest(Client, Issuer, Resources)
{
    public override string GrantType => GrantTypes.ClientCredentials;
}

/// <summary>
/// A grant made by a user (authorization code, refresh token, password): who, since when, how they authenticated,
/// and the grant family later tokens join.
/// </summary>
internal sealed record UserGrant
{
    public required string SubjectId { get; init; }

    public string? SessionId { get; init; }

    public required string FamilyId { get; init; }

    public required DateTimeOffset AuthTime { get; init; }

    public IReadOnlyList<string> Amr { get; init; } = [];

    public string? Acr { get; init; }

    public string? Nonce { get; init; }

    /// <summary>When the user authorized: the start of the refresh tokens' absolute lifetime.</summary>
    public required DateTimeOffset AuthorizedAt { get; init; }

    public IReadOnlyList<string> ResourceIndicators { get; init; } = [];

    /// <summary>Every scope the grant holds (a refresh may narrow the access token below it, never the grant).</summary>
    public required IReadOnlyList<string> GrantedScopes { get; init; }

    /// <summary>
    /// The key thumbprint the grant's refresh tokens are bound to (RFC 9449 §5: refresh tokens of public clients);
    /// null when they are not bound.
    /// </summary>
    public string? DPoPKeyThumbprint { get; init; }

    /// <summary>
    /// The certificate thumbprint (<c>x5t#S256</c>) the grant's refresh tokens are bound to (RFC 8705 §4: refresh
    /// tokens of public clients); null when they are not bound.
    /// </summary>
    public string? CertificateThumbprint { get; init; }

    /// <summary>The grant a stored code or refresh token continues.</summary>
    public static UserGrant From(Stores.PersistedGrant grant, string subjectId, string familyId, Castellan.Grants.AuthorizationGrantData data) => new()
    {
        SubjectId = subjectId,
        SessionId = grant.SessionId,
        FamilyId = familyId,
        AuthTime = DateTimeOffset.FromUnixTimeSeconds(data.AuthTime),
        Amr = data.Amr,
        Acr = data.Acr,
        Nonce = data.Nonce,
        AuthorizedAt = DateTimeOffset.FromUnixTimeSeconds(data.AuthorizedAt),
        ResourceIndicators = data.ResourceIndicators,
        GrantedScopes = data.Scopes,
        DPoPKeyThumbprint = data.DPoPKeyThumbprint,
        CertificateThumbprint = data.CertificateThumbprint,
    };
}

/// <summary>A token request for a user; the three user grants differ only in how they got here.</summary>
internal abstract record ValidatedUserTokenRequest(ValidatedClient Client, string Issuer, GrantedResources Resources, UserGrant User)
    : ValidatedTokenRequest(Client, Issuer, Resources)
{
    public override string Subject => User.SubjectId;

    public override string? SessionId => User.SessionId;

    /// <summary>The refresh token to return, when the grant already made one (a rotation, or a reused token).</summary>
    public virtual string? RefreshToken => null;

    /// <summary>Whether a new refresh token is to be created (offline_access granted and none made yet).</summary>
    public virtual bool CreateRefreshToken => RefreshToken is null && User.GrantedScopes.Contains(Protocol.StandardScopes.OfflineAccess) && Client.Client.AllowOfflineAccess;
}

/// <summary>RFC 6749 §4.1.3: a redeemed authorization code.</summary>
/// <param name="CodeKey">The store key of the consumed code: its record stays until a replay revokes the family.</param>
internal sealed record ValidatedAuthorizationCodeRequest(ValidatedClient Client, string Issuer, GrantedResources Resources, UserGrant User, string CodeKey)
    : ValidatedUserTokenRequest(Client, Issuer, Resources, User)
{
    public override string GrantType => GrantTypes.AuthorizationCode;
}

/// <summary>RFC 6749 §6: a refresh token, already rotated (or reused) by the validator.</summary>
internal sealed record ValidatedRefreshTokenRequest(ValidatedClient Client, string Issuer, GrantedResources Resources, UserGrant User, string NewRefreshToken)
    : ValidatedUserTokenRequest(Client, Issuer, Resources, User)
{
    public override string GrantType => GrantTypes.RefreshToken;

    public override string? RefreshToken => NewRefreshToken;
}

/// <summary>RFC 6749 §4.3: the resource owner's password.</summary>
internal sealed record ValidatedPasswordRequest(ValidatedClient Client, string Issuer, GrantedResources Resources, UserGrant User)
    : ValidatedUserTokenRequest(Client, Issuer, Resources, User)
{
    public override string GrantType => GrantTypes.Password;
}
