using System.Security.Cryptography.X509Certificates;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>self_signed_tls_client_auth</c> (RFC 8705 §2.2): the certificate registered for the client, itself: a
/// <see cref="SecretTypes.X509Thumbprint"/> secret (SHA-1 or SHA-256 hex), or the <c>x5c</c> certificate of a
/// <see cref="SecretTypes.JsonWebKey"/> secret. No chain is built: the registration is the trust, as a public key's
/// is for <c>private_key_jwt</c>, and the TLS handshake proved the client holds the certificate's key.
/// </summary>
internal sealed class SelfSignedTlsClientAuth : ClientCertificateMethod
{
    public override string Name => Protocol.ClientAuthenticationMethods.SelfSignedTlsClientAuth;

    protected override string? Verify(X509Certificate2 certificate, ClientModel client, DateTimeOffset now)
    {
        // Every registered thumbprint is compared (constant time each), so the time taken does not tell which matched.
        var matched = false;
        foreach (var (hash, expiration) in client.CertificateThumbprints)
        {
            matched |= ClientCertificates.Matches(certificate, hash) && (expiration is null || expiration > now);
        }

        if (!matched)
        {
            return $"the certificate (subject '{LogSubject(certificate)}') is not one registered for the client (X509Thumbprint, or a JWK's x5c)";
        }

        // RFC 8705 §2.2 leaves validity to the server; an expired certificate is refused, as an expired secret would be.
        var at = now.UtcDateTime;
        return at < certificate.NotBefore.ToUniversalTime() || at > certificate.NotAfter.ToUniversalTime()
            ? "the certificate is expired or not yet valid"
            : null;
    }
}
