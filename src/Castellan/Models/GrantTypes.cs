namespace Castellan;

/// <summary>Grant type names as they appear on the wire (RFC 6749 §4).</summary>
public static class GrantTypes
{
    /// <summary>RFC 6749 §4.4: the client acts on its own behalf.</summary>
    public const string ClientCredentials = "client_credentials";

    /// <summary>RFC 6749 §4.1: a user signs in at the authorize endpoint; the client redeems the code.</summary>
    public const string AuthorizationCode = "authorization_code";

    /// <summary>RFC 6749 §6: a new access token from a refresh token.</summary>
    public const string RefreshToken = "refresh_token";

    /// <summary>RFC 6749 §4.3, discouraged by RFC 9700 §2.4: the client collects the user's password.</summary>
    public const string Password = "password";

    /// <summary>
    /// The grant types built into this version of Castellan. What a server accepts is what is registered (these,
    /// plus any grant added to its services); configuration validation and discovery follow the registration.
    /// </summary>
    public static IReadOnlyList<string> Supported { get; } = [ClientCredentials, AuthorizationCode, RefreshToken, Password];
}
