namespace Castellan;

/// <summary>An application that asks Castellan for tokens (RFC 6749 §2).</summary>
public sealed class Client
{
    /// <summary>The identifier the client sends as <c>client_id</c>. Compared ordinally.</summary>
    public string ClientId { get; set; } = "";

    public string? ClientName { get; set; }

    /// <summary>A disabled client cannot authenticate. Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Hashed shared secrets; any one that has not expired authenticates the client.</summary>
    public ICollection<Secret> ClientSecrets { get; set; } = new List<Secret>();

    /// <summary>Whether the client must authenticate at the token endpoint. Default: true (confidential client).</summary>
    public bool RequireClientSecret { get; set; } = true;

    /// <summary>Grant types the client may use, e.g. <see cref="GrantTypes.ClientCredentials"/>.</summary>
    public ICollection<string> AllowedGrantTypes { get; set; } = new List<string>();

    /// <summary>Names of the API scopes (and identity resources) the client may request.</summary>
    public ICollection<string> AllowedScopes { get; set; } = new List<string>();

    /// <summary>Lifetime of access tokens in seconds. Default: 3600.</summary>
    public int AccessTokenLifetime { get; set; } = 3600;

    /// <summary>JWT (default) or reference token.</summary>
    public AccessTokenType AccessTokenType { get; set; } = AccessTokenType.Jwt;

    /// <summary>Claims added to every access token of this client, prefixed with <see cref="ClientClaimsPrefix"/>.</summary>
    public ICollection<ClientClaim> Claims { get; set; } = new List<ClientClaim>();

    /// <summary>
    /// Prefix for <see cref="Claims"/> in tokens. Default: <c>client_</c>, so a client cannot mint
    /// registered claim names (<c>sub</c>, <c>scope</c>...) for itself. Set to empty to disable.
    /// </summary>
    public string ClientClaimsPrefix { get; set; } = "client_";
}
