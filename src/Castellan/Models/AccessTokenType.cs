namespace Castellan;

/// <summary>How an access token is represented to the client and the API.</summary>
public enum AccessTokenType
{
    /// <summary>A self-contained JWT (RFC 9068) that APIs validate locally. The default.</summary>
    Jwt = 0,

    /// <summary>An opaque handle that APIs resolve through introspection (RFC 7662); revocable.</summary>
    Reference = 1,
}
