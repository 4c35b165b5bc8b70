using Castellan.Hosting;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>client_secret_jwt</c> (RFC 7523 §2.2, OpenID Connect Core §9): the client sends a short-lived JWT whose HMAC
/// (HS256, HS384 or HS512) is keyed with the octets of its secret. The secret never travels, unlike with
/// <c>client_secret_basic</c>, but the server must hold it to check the HMAC, so it is registered as an
/// <see cref="SecretTypes.HmacSecret"/> (kept as given, encrypted at rest by the database store) rather than as a
/// hash. RFC 9700 §2.5 prefers <c>private_key_jwt</c>; this method is for clients that cannot hold a key pair.
/// </summary>
internal sealed class ClientSecretJwt(IReplayCache replays, IssuerResolver issuers, IOptions<CastellanOptions> options)
    : ClientAssertionMethod(replays, issuers, options)
{
    public override string Name => Protocol.ClientAuthenticationMethods.ClientSecretJwt;

    protected override bool UsesHmac => true;

    protected override string NoKeys => "the client has no HmacSecret long enough for the assertion's alg";

    protected override ValueTask<List<SecurityKey>> GetKeysAsync(ClientModel client, string algorithm, DateTimeOffset now, bool refresh, CancellationToken cancellationToken)
    {
        // RFC 7518 §3.2: the key is at least as long as the hash. A 32-byte secret keys HS256, not HS512.
        var minimum = HmacSecrets.MinimumLength(algorithm);
        List<SecurityKey> keys = [.. client.HmacKeys.Where(k => k.Key.Key.Length >= minimum && (k.Expiration is null || k.Expiration > now)).Select(k => (SecurityKey)k.Key)];
        return ValueTask.FromResult(keys);
    }
}

/// <summary>The rules for the secrets of <c>client_secret_jwt</c>.</summary>
internal static class HmacSecrets
{
    /// <summary>The shortest secret, in UTF-8 bytes, that any HMAC algorithm accepts: HS256's (RFC 7518 §3.2).</summary>
    public const int MinimumBytes = 32;

    /// <summary>The key length, in bytes, that <paramref name="algorithm"/> needs: its hash's length (RFC 7518 §3.2).</summary>
    public static int MinimumLength(string algorithm) => algorithm switch
    {
        "HS384" => 48,
        "HS512" => 64,
        _ => MinimumBytes,
    };

    /// <summary>The key of a secret: the octets of its UTF-8 form (OpenID Connect Core §10.1).</summary>
    public static SymmetricSecurityKey Key(string secret) => new(System.Text.Encoding.UTF8.GetBytes(secret));
}
