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
}

/// <summary>RFC 6749 §4.4: the client acting on its own behalf.</summary>
internal sealed record ValidatedClientCredentialsRequest(ValidatedClient Client, string Issuer, GrantedResources Resources)
    : ValidatedTokenRequest(Client, Issuer, Resources)
{
    public override string GrantType => GrantTypes.ClientCredentials;
}
