using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>tls_client_auth</c> (RFC 8705 §2.1): a certificate issued by a CA the server trusts, whose subject is the one
/// registered for the client (a <see cref="SecretTypes.X509Name"/> secret). The CA vouches for the name, so the client
/// can renew its certificate without the server's configuration changing.
/// </summary>
/// <remarks>
/// The chain is built to <see cref="MutualTlsOptions.ChainTrustMode"/>'s roots, with the client authentication key
/// usage, at the server's clock, with <see cref="MutualTlsOptions.RevocationMode"/>, and never downloads a missing
/// issuer: a certificate's AIA URL is the client's choice, and fetching it would let any caller make the server
/// send requests. Subject alternative names are not compared (RFC 8705 §2.1.2's <c>tls_client_auth_san_*</c>).
/// </remarks>
internal sealed class TlsClientAuth(IOptions<CastellanOptions> options) : ClientCertificateMethod
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly MutualTlsOptions _options = options.Value.MutualTls;

    public override string Name => Protocol.ClientAuthenticationMethods.TlsClientAuth;

    protected override string? Verify(X509Certificate2 certificate, ClientModel client, DateTimeOffset now)
    {
        // The name first: it is cheap, and a chain is built only for a certificate that could authenticate the client.
        var named = false;
        foreach (var (name, expiration) in client.CertificateNames)
        {
            if ((expiration is null || expiration > now) && ClientCertificates.NamesEqual(name, certificate.SubjectName))
            {
                named = true;
                break;
            }
        }

        if (!named)
        {
            return $"the certificate's subject '{LogSubject(certificate)}' is not one registered for the client (X509Name)";
        }

        return ChainFailure(certificate, now) is { } failure ? "the certificate's chain is not trusted: " + failure : null;
    }

    private string? ChainFailure(X509Certificate2 certificate, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = _options.ChainTrustMode;
        if (_options.ChainTrustMode == X509ChainTrustMode.CustomRootTrust)
        {
            policy.CustomTrustStore.AddRange(_options.TrustedRootCertificates);
        }

        policy.ExtraStore.AddRange(_options.IntermediateCertificates);
        policy.RevocationMode = _options.RevocationMode;
        policy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(ClientAuthentication);
        try
        {
            if (chain.Build(certificate))
            {
                return null;
            }

            return string.Join("; ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal));
        }
        catch (CryptographicException ex)
        {
            return ex.Message;
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                // The chain's own copies; the configured roots and the presented certificate are not disposed here.
                element.Certificate.Dispose();
            }
        }
    }
}
