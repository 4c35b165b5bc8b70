using System.Security.Cryptography.X509Certificates;

namespace Castellan;

/// <summary>
/// Mutual TLS (RFC 8705): clients that authenticate with a certificate (<c>tls_client_auth</c>,
/// <c>self_signed_tls_client_auth</c>) and access tokens bound to the certificate the client presented
/// (<c>cnf.x5t#S256</c>). The certificate is the one of the TLS connection
/// (<c>HttpContext.Connection.ClientCertificate</c>): Kestrel asks for it on the endpoints where
/// <c>ClientCertificateMode</c> says so, or a proxy forwards it (the host's certificate forwarding).
/// </summary>
/// <remarks>
/// Defaults: off; no alias (the endpoints' ordinary URLs); chains checked against the system's trust store, with
/// certificate downloads off and revocation not checked; tokens bound only for clients that authenticated with
/// their certificate, and for public clients that present one.
/// </remarks>
public sealed class MutualTlsOptions
{
    /// <summary>
    /// Whether client certificates are read at all. Off (the default), the two certificate methods are not offered
    /// (discovery does not list them) and a certificate a connection carries binds nothing.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The base URL of the endpoints' mutual TLS aliases (RFC 8705 §5), e.g. <c>https://mtls.login.example.com</c>
    /// or <c>https://login.example.com:8443</c>: the alias of an endpoint is this URL plus the endpoint's path, and
    /// discovery lists them in <c>mtls_endpoint_aliases</c>. The application must serve its endpoints there too
    /// (a Kestrel endpoint of its own that asks for client certificates), so the certificate prompt never reaches
    /// the browser-facing host. Requires <see cref="CastellanOptions.IssuerUri"/>: a request at the alias arrives on
    /// another host, from which the issuer cannot be derived. Null (the default): no aliases; clients send
    /// certificates to the ordinary URLs.
    /// </summary>
    public string? EndpointBaseUrl { get; set; }

    /// <summary>
    /// What a <c>tls_client_auth</c> certificate's chain must end in: <see cref="X509ChainTrustMode.System"/> (the
    /// default), the operating system's trusted roots; <see cref="X509ChainTrustMode.CustomRootTrust"/>, only
    /// <see cref="TrustedRootCertificates"/> (a private CA for clients, with the public ones left out).
    /// </summary>
    public X509ChainTrustMode ChainTrustMode { get; set; } = X509ChainTrustMode.System;

    /// <summary>The roots of <see cref="X509ChainTrustMode.CustomRootTrust"/>; ignored in the system mode.</summary>
    public X509Certificate2Collection TrustedRootCertificates { get; } = [];

    /// <summary>
    /// Intermediate CA certificates used to build chains: TLS gives the server the client's own certificate only,
    /// so a client CA that issues through an intermediate needs it here. They are never trusted as roots.
    /// </summary>
    public X509Certificate2Collection IntermediateCertificates { get; } = [];

    /// <summary>
    /// Whether <c>tls_client_auth</c> checks revocation of the chain. Default: <see cref="X509RevocationMode.NoCheck"/>:
    /// checking online makes the server fetch the CRL and OCSP URLs the certificates name at every token request, a
    /// latency and availability cost many deployments do not want; set <see cref="X509RevocationMode.Online"/> (or
    /// <see cref="X509RevocationMode.Offline"/>, with CRLs cached by the system) where a revoked client certificate
    /// must stop working before it expires.
    /// </summary>
    public X509RevocationMode RevocationMode { get; set; } = X509RevocationMode.NoCheck;

    /// <summary>
    /// Bind the access token to the connection's certificate whatever the client authenticated with (a client
    /// sending a shared secret over a connection with a certificate too). Default: false: tokens are bound when
    /// the client authenticated with its certificate (RFC 8705 §3), and for public clients that present one
    /// (§4), the cases where the client has said it holds that certificate's key for this purpose.
    /// </summary>
    public bool AlwaysEmitConfirmationClaim { get; set; }
}
