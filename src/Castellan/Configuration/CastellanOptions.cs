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

    public string Discovery { get; set; } = "/.well-known/openid-configuration";

    public string Jwks { get; set; } = "/.well-known/openid-configuration/jwks";

    public string Token { get; set; } = "/connect/token";

    public string Introspection { get; set; } = "/connect/introspect";

    public string Revocation { get; set; } = "/connect/revocation";
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

    public int GrantType { get; set; } = 128;

    public int Scope { get; set; } = 2048;
}
