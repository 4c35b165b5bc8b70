using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench;

/// <summary>What every variant shares: the client, the scope, the audience, the RSA key.</summary>
internal static class BenchSetup
{
    public const string ClientId = "bench";
    public const string ReferenceClientId = "bench-ref";
    public const string ClientSecret = "secret";
    public const string Scope = "api1";
    public const string Audience = "api1";
    public const string ApiSecret = "api-secret";
    public const string KeyId = "bench-rsa";

    /// <summary>The user-flow client (authorization code with PKCE, refresh tokens) of the code and refresh variants.</summary>
    public const string WebClientId = "bench-web";
    public const string RedirectUri = "http://127.0.0.1/cb";
    public const string SubjectId = "alice";

    /// <summary>What a refresh token of the pool holds: an API scope and offline_access, no openid (so no id_token on refresh).</summary>
    public const string RefreshScope = "api1 offline_access";

    /// <summary>What a code of the pool holds: an id_token, an access token and a refresh token.</summary>
    public const string CodeScope = "openid api1 offline_access";

    /// <summary>One PKCE verifier for every pooled code (the server's work per redemption is the same as with a fresh one).</summary>
    public const string CodeVerifier = "bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

    /// <summary>client_secret_basic for bench:secret.</summary>
    public static readonly string BasicHeader = Basic(ClientId);

    /// <summary>client_secret_basic for bench-ref:secret.</summary>
    public static readonly string ReferenceBasicHeader = Basic(ReferenceClientId);

    /// <summary>client_secret_basic for bench-web:secret.</summary>
    public static readonly string WebBasicHeader = Basic(WebClientId);

    public static RSA LoadRsa(string pemPath)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(pemPath));
        return rsa;
    }

    public static RsaSecurityKey RsaKey(string pemPath) => new(LoadRsa(pemPath)) { KeyId = KeyId };

    /// <summary>The client_secret_basic header value for <paramref name="clientId"/> and the shared secret.</summary>
    public static string Basic(string clientId) => "Basic " + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(clientId + ":" + ClientSecret));
}
