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

    /// <summary>client_secret_basic for bench:secret.</summary>
    public static readonly string BasicHeader = "Basic " + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(ClientId + ":" + ClientSecret));

    public static RSA LoadRsa(string pemPath)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(pemPath));
        return rsa;
    }

    public static RsaSecurityKey RsaKey(string pemPath) => new(LoadRsa(pemPath)) { KeyId = KeyId };
}
