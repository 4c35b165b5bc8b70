namespace Castellan;

/// <summary>An application that asks Castellan for tokens (RFC 6749 §2).</summary>
public sealed class Client
{
    /// <summary>The identifier the client sends as <c>client_id</c>. Compared ordinally.</summary>
    public string ClientId { get; set; } = "";

    public string? ClientName { get; set; }

    /// <summary>A disabled client cannot authenticate. Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The client's credentials; any one that has not expired authenticates it. Shared secrets (the default
    /// <see cref="Secret.Type"/>) are stored hashed; <see cref="SecretTypes.JsonWebKey"/> secrets hold a public key
    /// the client signs its assertions with (<c>private_key_jwt</c>).
    /// </summary>
    public ICollection<Secret> ClientSecrets { get; set; } = new List<Secret>();

    /// <summary>
    /// Where the client publishes its public keys (a JWK Set, RFC 7517 §5), for <c>private_key_jwt</c>: fetched,
    /// cached (<see cref="CastellanOptions.ClientJwks"/>) and fetched again when an assertion names a key the
    /// cache does not have, so the client can rotate its keys on its own. An https URL.
    /// </summary>
    public string? JwksUri { get; set; }

    /// <summary>Whether the client must authenticate at the token endpoint. Default: true (confidential client).</summary>
    public bool RequireClientSecret { get; set; } = true;

    /// <summary>
    /// The client authentication methods (RFC 7591 §2 <c>token_endpoint_auth_method</c> names, e.g.
    /// <c>client_secret_basic</c>) this client may use at the token, introspection and revocation endpoints; a
    /// request authenticated with any other is refused with <c>invalid_client</c>. Empty (the default): what the
    /// client's configuration implies, <c>client_secret_basic</c> and <c>client_secret_post</c> when it has
    /// <see cref="ClientSecrets"/>, and <c>none</c> when <see cref="RequireClientSecret"/> is false.
    /// </summary>
    public ICollection<string> AllowedAuthenticationMethods { get; set; } = new List<string>();

    /// <summary>
    /// Whether every token request of this client must carry a DPoP proof (RFC 9449 §5.2
    /// <c>dpop_bound_access_tokens</c>), so it only ever gets DPoP-bound access tokens. Default: false, which still
    /// binds the tokens of any request that sends a proof.
    /// </summary>
    public bool RequireDPoP { get; set; }

    /// <summary>
    /// Whether this client's DPoP proofs at the token endpoint must carry a server nonce (RFC 9449 §8): a proof
    /// without one, or with one no longer accepted, is answered <c>use_dpop_nonce</c> with a fresh nonce in the
    /// <c>DPoP-Nonce</c> header. Limits how far ahead a stolen device can sign proofs. Default: false;
    /// <see cref="CastellanDPoPOptions.RequireNonce"/> turns it on for every client.
    /// </summary>
    public bool RequireDPoPNonce { get; set; }

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

    // Interactive clients (OpenID Connect Core 1.0, RFC 6749 §4.1). Names and defaults follow Duende IdentityServer.

    /// <summary>
    /// Where the authorize endpoint may send the user back. Compared ordinally and exactly; for loopback addresses
    /// (<c>http://127.0.0.1</c>, <c>http://[::1]</c>) any port matches (RFC 8252 §7.3).
    /// </summary>
    public ICollection<string> RedirectUris { get; set; } = new List<string>();

    /// <summary>Where the end-session endpoint may send the user after logout; compared exactly.</summary>
    public ICollection<string> PostLogoutRedirectUris { get; set; } = new List<string>();

    /// <summary>
    /// Browser origins (<c>https://app.example.com</c>) whose scripts may call the token, userinfo and revocation
    /// endpoints (CORS). Never the authorize endpoint, which browsers reach by navigation.
    /// </summary>
    public ICollection<string> AllowedCorsOrigins { get; set; } = new List<string>();

    /// <summary>Whether an authorization request must carry a PKCE <c>code_challenge</c> (RFC 7636). Default: true (RFC 9700 §2.1.1).</summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>Whether <c>code_challenge_method=plain</c> is accepted. Default: false (RFC 9700 §2.1.1: S256 only).</summary>
    public bool AllowPlainTextPkce { get; set; }

    /// <summary>Whether the user is asked to consent before the client gets tokens. Default: false.</summary>
    public bool RequireConsent { get; set; }

    /// <summary>Whether the consent page offers "remember my decision". Default: true.</summary>
    public bool AllowRememberConsent { get; set; } = true;

    /// <summary>How long a remembered consent lasts, in seconds; null (the default) keeps it until revoked.</summary>
    public int? ConsentLifetime { get; set; }

    /// <summary>Whether the client may get refresh tokens (scope <c>offline_access</c>). Default: false.</summary>
    public bool AllowOfflineAccess { get; set; }

    /// <summary>Lifetime of id_tokens in seconds. Default: 300.</summary>
    public int IdentityTokenLifetime { get; set; } = 300;

    /// <summary>Lifetime of authorization codes in seconds. Default: 60 (RFC 6749 §4.1.2 recommends at most 10 minutes).</summary>
    public int AuthorizationCodeLifetime { get; set; } = 60;

    /// <summary>Put the user's claims into the id_token even when an access token lets the client read them from userinfo. Default: false.</summary>
    public bool AlwaysIncludeUserClaimsInIdToken { get; set; }

    /// <summary>
    /// The longest time since the user signed in for which single sign-on still applies to this client, in seconds;
    /// null (the default) uses the session's own lifetime.
    /// </summary>
    public int? UserSsoLifetime { get; set; }

    /// <summary><see cref="TokenUsage.OneTimeOnly"/> (the default: a new refresh token at every use) or <see cref="TokenUsage.ReUse"/>.</summary>
    public TokenUsage RefreshTokenUsage { get; set; } = TokenUsage.OneTimeOnly;

    /// <summary><see cref="TokenExpiration.Absolute"/> (the default) or <see cref="TokenExpiration.Sliding"/>.</summary>
    public TokenExpiration RefreshTokenExpiration { get; set; } = TokenExpiration.Absolute;

    /// <summary>The longest a refresh token (and the tokens rotated from it) can live, in seconds. Default: 2592000 (30 days).</summary>
    public int AbsoluteRefreshTokenLifetime { get; set; } = 2592000;

    /// <summary>With <see cref="TokenExpiration.Sliding"/>: how long an unused refresh token lives, in seconds. Default: 1296000 (15 days).</summary>
    public int SlidingRefreshTokenLifetime { get; set; } = 1296000;

    /// <summary>
    /// Seconds during which a refresh token that was just rotated may be presented again by the same client and
    /// still yields working tokens of the same family (parallel refreshes in one app). Default: 0: any reuse
    /// revokes the family (RFC 9700 §4.14.2).
    /// </summary>
    public int RefreshTokenRotationGracePeriod { get; set; }

    /// <summary>
    /// Accepted for compatibility with Duende's configuration and without effect: Castellan always reads the user's
    /// claims again from the profile service at each refresh.
    /// </summary>
    public bool UpdateAccessTokenClaimsOnRefresh { get; set; }

    /// <summary>OpenID Connect Front-Channel Logout 1.0: the URL rendered in an iframe when the user logs out.</summary>
    public string? FrontChannelLogoutUri { get; set; }

    /// <summary>Whether <c>iss</c> and <c>sid</c> are appended to <see cref="FrontChannelLogoutUri"/>. Default: true.</summary>
    public bool FrontChannelLogoutSessionRequired { get; set; } = true;

    /// <summary>OpenID Connect Back-Channel Logout 1.0: the URL a signed logout token is POSTed to when the user logs out.</summary>
    public string? BackChannelLogoutUri { get; set; }

    /// <summary>Whether the logout token carries <c>sid</c>. Default: true.</summary>
    public bool BackChannelLogoutSessionRequired { get; set; } = true;

    /// <summary>A logo for the consent page (absolute https URL).</summary>
    public string? LogoUri { get; set; }

    /// <summary>The client's home page (informational, as in Duende; the pages do not show it yet).</summary>
    public string? ClientUri { get; set; }
}

/// <summary>Whether a refresh token is replaced at each use.</summary>
public enum TokenUsage
{
    /// <summary>Replaced (rotated) at every use; presenting a replaced one revokes the family.</summary>
    OneTimeOnly,

    /// <summary>The same refresh token is used until it expires.</summary>
    ReUse,
}

/// <summary>How a refresh token's lifetime is measured.</summary>
public enum TokenExpiration
{
    /// <summary>Expires <see cref="Client.AbsoluteRefreshTokenLifetime"/> after the user's authorization.</summary>
    Absolute,

    /// <summary>Each use extends the lifetime by <see cref="Client.SlidingRefreshTokenLifetime"/>, never past the absolute lifetime.</summary>
    Sliding,
}
