namespace Castellan;

/// <summary>
/// Settings of the token service. Every default is the safe one; change them only for a reason.
/// </summary>
public sealed class CastellanOptions
{
    /// <summary>
    /// The issuer identifier (RFC 8414 §2), e.g. <c>https://login.example.com</c>. When null (the default)
    /// it is derived from each request's scheme, host and path base; set it in production so a forged
    /// <c>Host</c> header cannot change what the server calls itself.
    /// </summary>
    public string? IssuerUri { get; set; }

    public EndpointPaths Endpoints { get; } = new();

    public DiscoveryOptions Discovery { get; } = new();

    public KeyManagementOptions KeyManagement { get; } = new();

    public InputLengthRestrictions InputLengthRestrictions { get; } = new();

    public UserInteractionOptions UserInteraction { get; } = new();

    public UserSessionOptions Session { get; } = new();

    /// <summary>How clients' JWT assertions (<c>private_key_jwt</c>, RFC 7523) are checked.</summary>
    public ClientAssertionOptions ClientAssertions { get; } = new();

    /// <summary>How keys published at clients' <see cref="Client.JwksUri"/> are fetched and cached.</summary>
    public ClientJwksOptions ClientJwks { get; } = new();

    /// <summary>DPoP (RFC 9449) at the token and userinfo endpoints: server nonces.</summary>
    public CastellanDPoPOptions DPoP { get; } = new();

    /// <summary>Client certificates (RFC 8705): the two certificate authentication methods and certificate-bound tokens. Off by default.</summary>
    public MutualTlsOptions MutualTls { get; } = new();

    /// <summary>
    /// How long clients, scopes and resources read from a configuration store (a database) are used before the
    /// store is asked whether they changed; they are read again only when they did, and validated once per change.
    /// Requests never wait for the store: the cached configuration answers while it is checked. A store that
    /// announces its changes (<see cref="Stores.IConfigurationChangeNotifier"/>, as the database stores do) is
    /// checked at once as well, so this is then the fallback for announcements missed. Default: 30 seconds.
    /// Configuration added in code or in the configuration file is not affected.
    /// </summary>
    public TimeSpan ConfigurationCacheLifetime { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Where the pages of the interactive flow live (the host ships them; an app of your own serves its own). Each is a
/// local path; Castellan appends its parameter (<c>ReturnUrl</c>, <c>logoutId</c>, <c>errorId</c>).
/// </summary>
public sealed class UserInteractionOptions
{
    public string LoginUrl { get; set; } = "/account/login";

    public string ConsentUrl { get; set; } = "/consent";

    public string LogoutUrl { get; set; } = "/account/logout";

    public string ErrorUrl { get; set; } = "/error";

    public string ReturnUrlParameter { get; set; } = "ReturnUrl";

    public string LogoutIdParameter { get; set; } = "logoutId";

    public string ErrorIdParameter { get; set; } = "errorId";

    /// <summary>How long a login or consent page may take before its return URL stops working. Default: 15 minutes.</summary>
    public TimeSpan InteractionLifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>The single sign-on session: a cookie at Castellan.</summary>
public sealed class UserSessionOptions
{
    public string CookieName { get; set; } = ".Castellan.Session";

    /// <summary>How long the session cookie lives. Default: 10 hours.</summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromHours(10);

    /// <summary>Whether each use of the session renews the cookie. Default: true.</summary>
    public bool CookieSlidingExpiration { get; set; } = true;

    /// <summary>
    /// The longest time since sign-in for which single sign-on applies, whatever the cookie says; null (the
    /// default) leaves it to the cookie. A client's <see cref="Client.UserSsoLifetime"/> can shorten it.
    /// </summary>
    public TimeSpan? UserSsoLifetime { get; set; }

    /// <summary>Failed password attempts per account within <see cref="FailedLoginWindow"/> before further attempts wait. Default: 5.</summary>
    public int MaxFailedLoginsPerAccount { get; set; } = 5;

    /// <summary>Failed password attempts per client address within <see cref="FailedLoginWindow"/>. Default: 20.</summary>
    public int MaxFailedLoginsPerAddress { get; set; } = 20;

    /// <summary>Default: 5 minutes.</summary>
    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times a back-channel logout notification is attempted before it is given up (and logged). Default: 5.</summary>
    public int BackChannelLogoutAttempts { get; set; } = 5;

    /// <summary>How long one back-channel logout POST may take. Default: 5 seconds.</summary>
    public TimeSpan BackChannelLogoutTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Where the protocol endpoints listen, and which are on. Paths must start with '/' and differ from each other.
/// A disabled endpoint is not mapped (404) and not listed in discovery. Discovery and the JWKS are always on.
/// </summary>
public sealed class EndpointPaths
{
    /// <summary>Default: true.</summary>
    public bool EnableTokenEndpoint { get; set; } = true;

    /// <summary>Default: true. Off when no API uses reference tokens and no client introspects.</summary>
    public bool EnableIntrospectionEndpoint { get; set; } = true;

    /// <summary>Default: true.</summary>
    public bool EnableTokenRevocationEndpoint { get; set; } = true;

    /// <summary>Default: true. The authorize endpoint and its callback (where the login and consent pages return).</summary>
    public bool EnableAuthorizeEndpoint { get; set; } = true;

    /// <summary>Default: true.</summary>
    public bool EnableUserInfoEndpoint { get; set; } = true;

    /// <summary>Default: true.</summary>
    public bool EnableEndSessionEndpoint { get; set; } = true;

    public string Discovery { get; set; } = "/.well-known/openid-configuration";

    public string Jwks { get; set; } = "/.well-known/openid-configuration/jwks";

    public string Token { get; set; } = "/connect/token";

    public string Introspection { get; set; } = "/connect/introspect";

    public string Revocation { get; set; } = "/connect/revocation";

    public string Authorize { get; set; } = "/connect/authorize";

    /// <summary>Where the login and consent pages send the browser back to; never published.</summary>
    public string AuthorizeCallback { get; set; } = "/connect/authorize/callback";

    public string UserInfo { get; set; } = "/connect/userinfo";

    public string EndSession { get; set; } = "/connect/endsession";
}

public sealed class DiscoveryOptions
{
    /// <summary>
    /// <c>Cache-Control: max-age</c> of the discovery document and the JWKS. Default: 1 hour. Must stay well
    /// below <see cref="KeyManagementOptions.PropagationTime"/> so caches see a new key before it signs.
    /// </summary>
    public TimeSpan ResponseCacheDuration { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Limits checked before any lookup, so oversized input is rejected cheaply (RFC 9700 §4, defensive parsing).
/// </summary>
public sealed class InputLengthRestrictions
{
    /// <summary>Largest token request body in bytes. Default: 64 KiB.</summary>
    public int MaxRequestBodySize { get; set; } = 64 * 1024;

    /// <summary>Most form parameters in one request. Default: 32.</summary>
    public int MaxParameterCount { get; set; } = 32;

    public int ClientId { get; set; } = 256;

    public int ClientSecret { get; set; } = 512;

    /// <summary>A <c>client_assertion</c> (a signed JWT, RFC 7523). Default: 8192 characters.</summary>
    public int ClientAssertion { get; set; } = 8192;

    public int GrantType { get; set; } = 128;

    public int Scope { get; set; } = 2048;

    /// <summary>Longest authorize request (query string or form), in bytes. Default: 8 KiB.</summary>
    public int MaxAuthorizeRequestSize { get; set; } = 8 * 1024;

    public int RedirectUri { get; set; } = 2048;

    public int State { get; set; } = 2048;

    public int Nonce { get; set; } = 512;

    public int LoginHint { get; set; } = 256;

    /// <summary>RFC 7636 §4.1: 43 to 128 characters.</summary>
    public int CodeVerifier { get; set; } = 128;

    public int Username { get; set; } = 256;

    public int Password { get; set; } = 1024;

    public int IdTokenHint { get; set; } = 8 * 1024;

    public int RefreshToken { get; set; } = 256;

    public int AuthorizationCode { get; set; } = 256;
}

/// <summary>
/// DPoP at this server. The proof checks themselves (algorithms, <c>iat</c> window, replay cache) are
/// <see cref="Castellan.Security.DPoPProofValidationOptions"/>; nonces are made by <see cref="Castellan.Security.DPoPNonces"/>
/// (<see cref="Castellan.Security.DPoPNonceOptions"/>: lifetime, and an HMAC key or Data Protection).
/// </summary>
public sealed class CastellanDPoPOptions
{
    /// <summary>
    /// Whether every DPoP proof, at the token endpoint and at userinfo, must carry a nonce this server issued (RFC 9449
    /// §8, §9). The nonces are stateless and protected with the server's Data Protection key ring, so any node accepts
    /// another's. Per client: <see cref="Client.RequireDPoPNonce"/>. Default: false.
    /// </summary>
    public bool RequireNonce { get; set; }
}

/// <summary>Checks of the JWTs clients authenticate with (<c>private_key_jwt</c> and <c>client_secret_jwt</c>, RFC 7523 §2.2 and §3).</summary>
public sealed class ClientAssertionOptions
{
    /// <summary>
    /// The longest an assertion may be valid (<c>exp</c> after now, and after <c>iat</c> when it has one): an
    /// assertion is a one-time credential, and its <c>jti</c> is remembered until it expires. Default: 5 minutes.
    /// </summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Tolerance for clocks that differ, on <c>exp</c>, <c>nbf</c> and <c>iat</c>. Default: 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Also accept the token endpoint's URL as <c>aud</c>, besides the issuer identifier. RFC 7523 §3 allowed it,
    /// and many clients still send it; the issuer alone is what draft-ietf-oauth-rfc7523bis requires, because an
    /// endpoint URL can be shared by several servers. Default: false.
    /// </summary>
    public bool AcceptTokenEndpointAudience { get; set; }

    /// <summary>
    /// Algorithms an assertion may use: the asymmetric ones for <c>private_key_jwt</c>, the HMACs for
    /// <c>client_secret_jwt</c> (never the other way round, so a public key cannot be used as an HMAC secret); <c>none</c>
    /// is never accepted. Default: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, HS256, HS384, HS512.
    /// </summary>
    public ICollection<string> AllowedAlgorithms { get; } = new List<string> { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512" };
}

/// <summary>Fetching the keys clients publish at their <see cref="Client.JwksUri"/>.</summary>
public sealed class ClientJwksOptions
{
    /// <summary>How long fetched keys are used before they are fetched again. Default: 10 minutes.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The least time between two fetches of one URI when an assertion names a key not in the cache (the client
    /// rotated): a stream of assertions with unknown key ids cannot make the server fetch without pause. Default:
    /// 30 seconds.
    /// </summary>
    public TimeSpan MinimumRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one fetch may take. Default: 5 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest key set accepted, in bytes. Default: 64 KiB.</summary>
    public int MaxResponseSize { get; set; } = 64 * 1024;

    /// <summary>Only fetch over https. Default: true; turn off only for development and tests on loopback.</summary>
    public bool RequireHttps { get; set; } = true;
}
