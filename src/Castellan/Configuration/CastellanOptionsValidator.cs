using Castellan.Keys;
using Microsoft.Extensions.Options;

namespace Castellan;

/// <summary>Fails startup on option values that cannot work, with a message that says how to fix them.</summary>
internal sealed class CastellanOptionsValidator : IValidateOptions<CastellanOptions>
{
    public ValidateOptionsResult Validate(string? name, CastellanOptions options)
    {
        var errors = new List<string>();
        if (options.IssuerUri is { } issuer
            && (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            // RFC 8414 §2: an https URL with no query or fragment (http is tolerated for local development).
            errors.Add($"IssuerUri '{issuer}' must be an absolute https (or, for development, http) URL without query or fragment.");
        }

        var mapped = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var endpoint in Hosting.CastellanEndpointDefinitions.All)
        {
            var path = endpoint.Path(options.Endpoints);
            if (string.IsNullOrEmpty(path) || path[0] != '/')
            {
                errors.Add($"Endpoints.{endpoint.Name} must start with '/'.");
            }
            else if (endpoint.IsEnabled(options.Endpoints) && !mapped.TryAdd(path.TrimEnd('/'), endpoint.Name))
            {
                // Routing matches paths case-insensitively; two endpoints on one path would make one unreachable.
                errors.Add($"Endpoints.{endpoint.Name} uses the path '{path}' of Endpoints.{mapped[path.TrimEnd('/')]}; give each endpoint its own path.");
            }
        }

        var keys = options.KeyManagement;
        foreach (var algorithm in keys.SigningAlgorithms)
        {
            if (!SigningAlgorithms.IsSupported(algorithm))
            {
                errors.Add($"KeyManagement.SigningAlgorithms: '{algorithm}' is not supported; use RS256, PS256 or ES256.");
            }
        }

        foreach (var algorithm in options.ClientAssertions.AllowedAlgorithms.Where(a => !Clients.Authentication.ClientAssertionMethod.SupportedAlgorithms.Contains(a)))
        {
            errors.Add($"ClientAssertions.AllowedAlgorithms: '{algorithm}' is not supported; use {string.Join(", ", Clients.Authentication.ClientAssertionMethod.SupportedAlgorithms)}.");
        }

        if (keys.RotationInterval <= TimeSpan.Zero || keys.PropagationTime < TimeSpan.Zero || keys.RetentionDuration < TimeSpan.Zero)
        {
            errors.Add("KeyManagement: RotationInterval must be positive; PropagationTime and RetentionDuration must not be negative.");
        }
        else if (keys.PropagationTime >= keys.RotationInterval)
        {
            errors.Add("KeyManagement.PropagationTime must be shorter than RotationInterval, or a key would retire before its successor may sign.");
        }

        if (keys.Enabled && options.Discovery.ResponseCacheDuration >= keys.PropagationTime && keys.PropagationTime > TimeSpan.Zero)
        {
            errors.Add("Discovery.ResponseCacheDuration must be shorter than KeyManagement.PropagationTime, or cached key sets would miss new keys.");
        }

        if (keys.RsaKeySize < 2048)
        {
            errors.Add("KeyManagement.RsaKeySize must be at least 2048 bits.");
        }

        if (options.ConfigurationCacheLifetime < TimeSpan.Zero || options.ConfigurationCacheLifetime > TimeSpan.FromDays(1))
        {
            errors.Add("ConfigurationCacheLifetime must be between zero and one day.");
        }

        if (keys.KeyCacheDuration <= TimeSpan.Zero)
        {
            errors.Add("KeyManagement.KeyCacheDuration must be positive.");
        }

        var session = options.Session;
        if (session.CookieLifetime <= TimeSpan.Zero || session.UserSsoLifetime is { } sso && sso <= TimeSpan.Zero)
        {
            errors.Add("Session: CookieLifetime and UserSsoLifetime (when set) must be positive.");
        }

        if (session.MaxFailedLoginsPerAccount < 1 || session.MaxFailedLoginsPerAddress < 1 || session.FailedLoginWindow <= TimeSpan.Zero)
        {
            errors.Add("Session: MaxFailedLoginsPerAccount and MaxFailedLoginsPerAddress must be at least 1, and FailedLoginWindow positive.");
        }

        if (session.BackChannelLogoutAttempts < 1 || session.BackChannelLogoutTimeout <= TimeSpan.Zero)
        {
            errors.Add("Session: BackChannelLogoutAttempts must be at least 1 and BackChannelLogoutTimeout positive.");
        }

        if (string.IsNullOrEmpty(session.CookieName))
        {
            errors.Add("Session.CookieName must not be empty.");
        }

        var pages = options.UserInteraction;
        foreach (var (setting, url) in new[] { ("LoginUrl", pages.LoginUrl), ("ConsentUrl", pages.ConsentUrl), ("LogoutUrl", pages.LogoutUrl), ("ErrorUrl", pages.ErrorUrl) })
        {
            // A local path, or an absolute https URL of a separate UI application.
            if (string.IsNullOrEmpty(url) || (!(url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal))
                                              && !(Uri.TryCreate(url, UriKind.Absolute, out var page) && page.Scheme == Uri.UriSchemeHttps)))
            {
                errors.Add($"UserInteraction.{setting} must be a local path ('/account/login') or an absolute https URL.");
            }
        }

        if (pages.InteractionLifetime <= TimeSpan.Zero)
        {
            errors.Add("UserInteraction.InteractionLifetime must be positive.");
        }

        var jwks = options.ClientJwks;
        if (jwks.CacheDuration <= TimeSpan.Zero || jwks.MinimumRefreshInterval < TimeSpan.Zero || jwks.Timeout <= TimeSpan.Zero || jwks.Timeout > TimeSpan.FromMinutes(1))
        {
            errors.Add("ClientJwks: CacheDuration must be positive, MinimumRefreshInterval not negative, and Timeout between zero and one minute.");
        }

        if (jwks.MaxResponseSize < 1024 || jwks.MaxResponseSize > 1024 * 1024)
        {
            errors.Add("ClientJwks.MaxResponseSize must be between 1024 and 1048576 bytes.");
        }

        ValidateMutualTls(options, errors);

        var limits = options.InputLengthRestrictions;
        if (limits.MaxRequestBodySize < 1024 || limits.MaxParameterCount < 4)
        {
            errors.Add("InputLengthRestrictions: MaxRequestBodySize must be at least 1024 and MaxParameterCount at least 4.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateMutualTls(CastellanOptions options, List<string> errors)
    {
        var mtls = options.MutualTls;
        if (mtls.EndpointBaseUrl is { } alias)
        {
            // RFC 8705 §5: the aliases are https URLs clients connect to with their certificate.
            if (!Uri.TryCreate(alias, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            {
                errors.Add($"MutualTls.EndpointBaseUrl '{alias}' must be an absolute https URL without query or fragment, e.g. https://mtls.login.example.com.");
            }
            else if (mtls.Enabled && options.IssuerUri is null)
            {
                errors.Add("MutualTls.EndpointBaseUrl needs IssuerUri: requests at the alias arrive on another host, from which the issuer cannot be derived.");
            }
            else if (options.IssuerUri is { } issuer && string.Equals(alias.TrimEnd('/'), issuer.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                errors.Add("MutualTls.EndpointBaseUrl must differ from IssuerUri: the aliases are other URLs (RFC 8705 §5); leave it unset to take certificates at the ordinary ones.");
            }
        }

        if (mtls.Enabled && mtls.ChainTrustMode == System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust
            && mtls.TrustedRootCertificates.Count == 0)
        {
            errors.Add("MutualTls.ChainTrustMode is CustomRootTrust but TrustedRootCertificates is empty: no tls_client_auth certificate could be trusted.");
        }
    }
}
