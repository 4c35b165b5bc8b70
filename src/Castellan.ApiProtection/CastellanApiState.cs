using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.ApiProtection;

/// <summary>
/// What one API registration shares across requests: the discovery document manager (keys, introspection
/// endpoint) and the validation parameters built from the current document, rebuilt only when it changes.
/// </summary>
internal sealed class CastellanApiState
{
    private readonly CastellanApiOptions _api;
    private ValidationContext? _current;

    public CastellanApiState(CastellanApiOptions api, bool requireHttps)
    {
        _api = api;
        var http = api.BackchannelHandler is null ? new HttpClient() : new HttpClient(api.BackchannelHandler, disposeHandler: false);
        Configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            api.Authority.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = requireHttps })
        {
            // An unknown kid asks for a refresh at most this often, so forged kids cannot hammer the token service.
            RefreshInterval = TimeSpan.FromMinutes(5),
        };
    }

    public ConfigurationManager<OpenIdConnectConfiguration> Configuration { get; }

    public async Task<ValidationContext> GetAsync(CancellationToken cancellationToken)
    {
        var configuration = await Configuration.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        var current = _current;
        if (current is not null && ReferenceEquals(current.Configuration, configuration))
        {
            return current;
        }

        // Built once per discovery document and never mutated afterwards, so requests can share it without cloning.
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudiences = _api.Audiences,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = CastellanJwtBearerExtensions.AllowedAlgorithms,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = _api.ClockSkew,
            NameClaimType = "sub",
            RoleClaimType = "role",
        };
        // A new document may have dropped a key: tokens validated against the old one are validated again.
        current = new ValidationContext(configuration, parameters,
            _api.ValidatedTokenCacheSize > 0 ? new ValidatedJwtCache(_api.ValidatedTokenCacheSize) : null);
        _current = current;
        return current;
    }
}

/// <summary>Everything derived from one discovery document.</summary>
internal sealed record ValidationContext(OpenIdConnectConfiguration Configuration, TokenValidationParameters Parameters, ValidatedJwtCache? Cache);
