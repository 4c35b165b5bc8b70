using System.Collections.Frozen;
using System.Runtime.CompilerServices;

namespace Castellan.Clients;

/// <summary>
/// The parts of a <see cref="Client"/> the hot path needs, in lookup-friendly form: decoded secret hashes and
/// frozen sets. Computed once per client instance.
/// </summary>
internal sealed class ClientModel
{
    private static readonly ConditionalWeakTable<Client, ClientModel> Cache = new();

    private ClientModel(Client client)
    {
        Client = client;
        // Duende's rule: a client allowed offline access may use its refresh tokens without listing the grant.
        GrantTypes = (client.AllowOfflineAccess ? client.AllowedGrantTypes.Append(Castellan.GrantTypes.RefreshToken) : client.AllowedGrantTypes)
            .ToFrozenSet(StringComparer.Ordinal);
        Scopes = client.AllowedScopes.ToFrozenSet(StringComparer.Ordinal);
        SecretHashes = SecretVerifier.Decode(client.ClientSecrets);
        AssertionKeys = [.. client.ClientSecrets.Where(s => s.Type == SecretTypes.JsonWebKey)
            .Select(s => (Key: Authentication.ClientKeys.FromSecret(s.Value), s.Expiration)).Where(k => k.Key is not null).Select(k => (k.Key!, k.Expiration))];
        HmacKeys = [.. client.ClientSecrets.Where(s => s.Type == SecretTypes.HmacSecret && System.Text.Encoding.UTF8.GetByteCount(s.Value ?? "") >= Authentication.HmacSecrets.MinimumBytes)
            .Select(s => (Authentication.HmacSecrets.Key(s.Value), s.Expiration))];
        CertificateNames = [.. client.ClientSecrets.Where(s => s.Type == SecretTypes.X509Name)
            .Select(s => (Name: Authentication.ClientCertificates.ParseName(s.Value), s.Expiration)).Where(n => n.Name is not null).Select(n => (n.Name!, n.Expiration))];
        CertificateThumbprints = [.. client.ClientSecrets
            .Select(s => (Hash: s.Type switch
            {
                SecretTypes.X509Thumbprint => Authentication.ClientCertificates.ParseThumbprint(s.Value),
                SecretTypes.JsonWebKey => Authentication.ClientCertificates.X5cThumbprint(s.Value),
                _ => null,
            }, s.Expiration)).Where(t => t.Hash is not null).Select(t => (t.Hash!, t.Expiration))];
        AuthenticationMethods = (client.AllowedAuthenticationMethods.Count > 0 ? client.AllowedAuthenticationMethods : ImpliedAuthenticationMethods(client))
            .ToFrozenSet(StringComparer.Ordinal);
        // A claim whose value does not fit its type was reported by configuration validation; it is left out here
        // rather than written as something it is not.
        TokenClaims = client.Claims
            .Select(c => Tokens.TokenClaim.Create(client.ClientClaimsPrefix + c.Type, c.Value, c.ValueType, out _))
            .Where(c => c is not null).Select(c => c!.Value).ToArray();
    }

    /// <summary>The public keys of the client's <see cref="SecretTypes.JsonWebKey"/> secrets, each with its secret's expiration; a key that does not parse is left out (configuration validation reports it).</summary>
    public IReadOnlyList<(Microsoft.IdentityModel.Tokens.JsonWebKey Key, DateTimeOffset? Expiration)> AssertionKeys { get; }

    /// <summary>The keys of the client's <see cref="SecretTypes.HmacSecret"/> secrets (<c>client_secret_jwt</c>), each with its secret's expiration; one too short is left out (configuration validation reports it).</summary>
    public IReadOnlyList<(Microsoft.IdentityModel.Tokens.SymmetricSecurityKey Key, DateTimeOffset? Expiration)> HmacKeys { get; }

    /// <summary>The subjects of the client's <see cref="SecretTypes.X509Name"/> secrets (<c>tls_client_auth</c>), each with its secret's expiration.</summary>
    public IReadOnlyList<(System.Security.Cryptography.X509Certificates.X500DistinguishedName Name, DateTimeOffset? Expiration)> CertificateNames { get; }

    /// <summary>
    /// The certificate hashes of <c>self_signed_tls_client_auth</c>: its <see cref="SecretTypes.X509Thumbprint"/>
    /// secrets (SHA-1 or SHA-256) and the SHA-256 of the <c>x5c</c> certificate of its JWK secrets.
    /// </summary>
    public IReadOnlyList<(byte[] Hash, DateTimeOffset? Expiration)> CertificateThumbprints { get; }

    /// <summary>The client's claims as they appear in its access tokens (prefixed).</summary>
    public IReadOnlyList<Tokens.TokenClaim> TokenClaims { get; }

    public Client Client { get; }

    public FrozenSet<string> GrantTypes { get; }

    public FrozenSet<string> Scopes { get; }

    public (byte[] Hash, DateTimeOffset? Expiration)[] SecretHashes { get; }

    /// <summary>The client authentication methods this client may use (<see cref="Client.AllowedAuthenticationMethods"/>, or what its configuration implies).</summary>
    public FrozenSet<string> AuthenticationMethods { get; }

    /// <summary>
    /// What a client that lists no methods may use: the shared-secret methods when it has shared secrets, and
    /// <c>none</c> when it needs no authentication (a public client).
    /// </summary>
    public static IEnumerable<string> ImpliedAuthenticationMethods(Client client)
    {
        if (client.ClientSecrets.Any(s => s.Type == SecretTypes.SharedSecret))
        {
            yield return Protocol.ClientAuthenticationMethods.ClientSecretBasic;
            yield return Protocol.ClientAuthenticationMethods.ClientSecretPost;
        }

        if (client.ClientSecrets.Any(s => s.Type == SecretTypes.JsonWebKey) || client.JwksUri is not null)
        {
            yield return Protocol.ClientAuthenticationMethods.PrivateKeyJwt;
        }

        if (client.ClientSecrets.Any(s => s.Type == SecretTypes.HmacSecret))
        {
            yield return Protocol.ClientAuthenticationMethods.ClientSecretJwt;
        }

        // A JWK's x5c does not imply the certificate method: a key registered for private_key_jwt does not
        // silently become a TLS credential when mutual TLS is turned on; list the method to use it.
        if (client.ClientSecrets.Any(s => s.Type == SecretTypes.X509Name))
        {
            yield return Protocol.ClientAuthenticationMethods.TlsClientAuth;
        }

        if (client.ClientSecrets.Any(s => s.Type == SecretTypes.X509Thumbprint))
        {
            yield return Protocol.ClientAuthenticationMethods.SelfSignedTlsClientAuth;
        }

        if (!client.RequireClientSecret)
        {
            yield return Protocol.ClientAuthenticationMethods.None;
        }
    }

    public static ClientModel For(Client client) => Cache.GetValue(client, static c => new ClientModel(c));
}
