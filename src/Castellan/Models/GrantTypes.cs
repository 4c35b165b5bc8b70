namespace Castellan;

/// <summary>Grant type names as they appear on the wire (RFC 6749 §4).</summary>
public static class GrantTypes
{
    /// <summary>RFC 6749 §4.4: the client acts on its own behalf.</summary>
    public const string ClientCredentials = "client_credentials";

    /// <summary>
    /// The grant types built into this version of Castellan. What a server accepts is what is registered (these,
    /// plus any grant added to its services); configuration validation and discovery follow the registration.
    /// </summary>
    public static IReadOnlyList<string> Supported { get; } = [ClientCredentials];
}
