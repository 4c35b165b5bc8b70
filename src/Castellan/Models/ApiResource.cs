namespace Castellan;

/// <summary>
/// An API, identified by its <see cref="Name"/>, which becomes the <c>aud</c> of access tokens that carry
/// any of its <see cref="Scopes"/>.
/// </summary>
public sealed class ApiResource
{
    /// <summary>The audience value, e.g. <c>api1</c> or <c>https://orders.example.com</c>.</summary>
    public string Name { get; set; } = "";

    public string? DisplayName { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Names of the <see cref="ApiScope"/>s this API accepts.</summary>
    public ICollection<string> Scopes { get; set; } = new List<string>();

    /// <summary>User claim types to include in access tokens for this API.</summary>
    public ICollection<string> UserClaims { get; set; } = new List<string>();

    /// <summary>Hashed secrets the API uses to authenticate at the introspection endpoint.</summary>
    public ICollection<Secret> ApiSecrets { get; set; } = new List<Secret>();

    /// <summary>
    /// Signing algorithms this API accepts for its access tokens (e.g. <c>ES256</c>). Empty: the server's
    /// default algorithm. Every algorithm named here must be configured as a signing algorithm.
    /// </summary>
    public ICollection<string> AllowedAccessTokenSigningAlgorithms { get; set; } = new List<string>();

    /// <summary>
    /// When true, this API becomes an audience only if the client names it with the <c>resource</c> parameter
    /// (RFC 8707); tokens requested by scope alone do not carry it. Default: false.
    /// </summary>
    public bool RequireResourceIndicator { get; set; }

    public ApiResource()
    {
    }

    public ApiResource(string name, string? displayName = null)
    {
        Name = name;
        DisplayName = displayName;
    }
}
