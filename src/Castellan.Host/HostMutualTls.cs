using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Castellan.Host;

/// <summary>
/// <c>Castellan:MutualTls</c> (docs/mtls.md): client certificates from Kestrel's TLS, on the endpoint the operator
/// configures for the aliases (<c>Kestrel:Endpoints:&lt;name&gt;:ClientCertificateMode</c>), or from a header a
/// TLS-terminating proxy sets (<c>ForwardedCertificateHeader</c>, ASP.NET Core's certificate forwarding).
/// </summary>
internal static class HostMutualTls
{
    private const string Section = HostConfiguration.SectionName + ":MutualTls";

    /// <summary>Longer than any client certificate a proxy forwards (a few KiB); a longer value is not read.</summary>
    private const int MaxForwardedLength = 16 * 1024;

    /// <returns>Whether a forwarded certificate header is read (the app then uses the forwarding middleware).</returns>
    /// <exception cref="CastellanConfigurationException">A setting that cannot work.</exception>
    public static bool Configure(WebApplicationBuilder builder)
    {
        var settings = new HostSettings.MutualTlsSettings();
        builder.Configuration.GetSection(Section).Bind(settings);
        var errors = new List<string>();
        if (!settings.Enabled)
        {
            if (settings.ForwardedCertificateHeader is { Length: > 0 })
            {
                errors.Add($"{Section}:ForwardedCertificateHeader is set but {Section}:Enabled is false; enable mutual TLS or remove the header setting.");
            }

            Throw(errors);
            return false;
        }

        if (settings.EndpointBaseUrl is not { Length: > 0 })
        {
            errors.Add($"{Section}:EndpointBaseUrl is required with {Section}:Enabled (e.g. \"https://mtls.login.example.com\"): the host serves the " +
                       "mutual TLS aliases on a Kestrel endpoint of their own (Kestrel:Endpoints:<name> with ClientCertificateMode), so browsers are never asked for a certificate.");
        }

        var header = settings.ForwardedCertificateHeader;
        if (header is { Length: > 0 } && !IsHeaderName(header))
        {
            errors.Add($"{Section}:ForwardedCertificateHeader '{header}' is not an HTTP header name (RFC 9110 §5.1: letters, digits and !#$%&'*+-.^_`|~).");
        }

        var roots = Load(builder, settings.TrustedRootCertificateFiles, "TrustedRootCertificateFiles", errors);
        var intermediates = Load(builder, settings.IntermediateCertificateFiles, "IntermediateCertificateFiles", errors);
        Throw(errors);

        builder.Services.Configure<CastellanOptions>(o =>
        {
            // Files of the operator's CAs mean those CAs, and not the system's, vouch for client names.
            if (roots.Count > 0)
            {
                o.MutualTls.ChainTrustMode = settings.ChainTrustMode ?? X509ChainTrustMode.CustomRootTrust;
                o.MutualTls.TrustedRootCertificates.AddRange(roots);
            }

            o.MutualTls.IntermediateCertificates.AddRange(intermediates);
        });

        // Castellan checks the certificate itself (the chain for tls_client_auth, the registration for the
        // self-signed method), so TLS accepts any: Kestrel's default check would refuse every self-signed one.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.AllowAnyClientCertificate()));

        if (header is not { Length: > 0 })
        {
            return false;
        }

        builder.Services.AddCertificateForwarding(o =>
        {
            o.CertificateHeader = header;
            o.HeaderConverter = FromHeader;
        });
        return true;
    }

    /// <summary>
    /// Base64 DER (what the forwarding middleware expects), or URL-encoded PEM (nginx's <c>$ssl_client_escaped_cert</c>).
    /// Anything else is no certificate: the middleware catches the exception and the request is unauthenticated.
    /// </summary>
    private static X509Certificate2 FromHeader(string value)
    {
        if (value.Length > MaxForwardedLength)
        {
            throw new CryptographicException("The forwarded certificate is longer than any client certificate.");
        }

        return value.StartsWith("-----BEGIN", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(Uri.UnescapeDataString(value))
            : X509CertificateLoader.LoadCertificate(Convert.FromBase64String(value));
    }

    private static X509Certificate2Collection Load(WebApplicationBuilder builder, List<string> files, string setting, List<string> errors)
    {
        var loaded = new X509Certificate2Collection();
        for (var i = 0; i < files.Count; i++)
        {
            // Relative paths are the content root's, like the other files the host reads.
            var path = Path.Combine(builder.Environment.ContentRootPath, files[i]);
            try
            {
                if (File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal))
                {
                    loaded.ImportFromPemFile(path);
                }
                else
                {
                    loaded.Add(X509CertificateLoader.LoadCertificateFromFile(path));
                }
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors.Add($"{Section}:{setting}:{i}: '{path}' could not be read as a PEM or DER certificate ({ex.Message}).");
            }
        }

        return loaded;
    }

    private static bool IsHeaderName(string name)
        => name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private static void Throw(List<string> errors)
    {
        if (errors.Count > 0)
        {
            throw new CastellanConfigurationException(errors);
        }
    }
}
