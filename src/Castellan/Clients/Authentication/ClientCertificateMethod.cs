using Castellan.Protocol;

namespace Castellan.Clients.Authentication;

/// <summary>
/// The mutual TLS methods (RFC 8705 §2): the client's proof is the private key of the certificate it presented in
/// the TLS handshake, which TLS has already checked; the request names the client with <c>client_id</c> (required
/// by RFC 8705 §2, since nothing else in it does). Offered only with <see cref="MutualTlsOptions.Enabled"/>.
/// </summary>
internal abstract class ClientCertificateMethod : IClientAuthenticationMethod
{
    public abstract string Name { get; }

    public bool Authenticates => true;

    public bool UsesClientCertificate => true;

    public Outcome<PresentedCredentials>? Read(ClientRequest request)
    {
        if (request.Certificate is null || request.FormValue(OAuthParameters.ClientId) is not { } id)
        {
            return null;
        }

        return id.Length > request.Limits.ClientId ? ProtocolError.InvalidClient : new PresentedCredentials(id, this);
    }

    public ValueTask<string?> VerifyAsync(PresentedCredentials presented, ClientModel? client, ClientRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // An unknown client has nothing to compare with; its id is no secret, so answering at once hides nothing.
        if (client is null)
        {
            return ValueTask.FromResult<string?>("unknown client");
        }

        return ValueTask.FromResult(Verify(request.Certificate!, client, now));
    }

    /// <returns>Null when <paramref name="certificate"/> proves <paramref name="client"/>; otherwise why not, for the log.</returns>
    protected abstract string? Verify(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, ClientModel client, DateTimeOffset now);

    /// <summary>The subject as a log can show it: capped and stripped like any value the caller chose.</summary>
    protected static string LogSubject(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        => ClientAuthenticator.LogSafe(certificate.Subject);
}
