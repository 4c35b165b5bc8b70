using Castellan.Clients;
using Castellan.Protocol;

namespace Castellan.Endpoints.Token;

/// <summary>
/// Which token requests get certificate-bound tokens (RFC 8705 §3): the access token's <c>cnf</c> carries the
/// <c>x5t#S256</c> of the connection's client certificate, so an API that checks it accepts the token only over a
/// connection with that certificate.
/// </summary>
internal sealed class CertificateBinding(MutualTlsOptions options)
{
    /// <summary>
    /// The thumbprint to bind to, or null for an unbound token: with mutual TLS on and a certificate on the
    /// connection, when the client authenticated with it (RFC 8705 §3), when it is a public client (§4: its only way
    /// to bind tokens, the certificate proving nothing else), or whenever <see cref="MutualTlsOptions.AlwaysEmitConfirmationClaim"/>.
    /// </summary>
    public string? ThumbprintToBind(ValidatedClient client)
    {
        if (!options.Enabled || client.Certificate is not { } certificate)
        {
            return null;
        }

        var bind = options.AlwaysEmitConfirmationClaim
            || client.AuthenticationMethod is ClientAuthenticationMethods.TlsClientAuth or ClientAuthenticationMethods.SelfSignedTlsClientAuth or ClientAuthenticationMethods.None;
        return bind ? Security.CertificateThumbprint.ComputeSha256Base64Url(certificate) : null;
    }
}
