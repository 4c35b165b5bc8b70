using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
    private const string CachePrefix = "castellan:introspection:";
    private readonly CastellanApiOptions _api;
    private readonly string _cacheKeyPrefix;

    // Read and replaced by concurrent requests without a lock. A reference write is atomic, so no request can see a
    // torn value; volatile adds the ordering: a request that sees the new context also sees the fields its
    // constructor wrote, on every memory model .NET runs on (ARM included), not only on x64.
    private volatile ValidationContext? _current;

    public CastellanApiState(CastellanApiOptions api, bool requireHttps)
    {
        _api = api;
        _cacheKeyPrefix = CacheKeyPrefix(api.Authority, api.Audiences[0]);
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

    /// <summary>
    /// The <c>IDistributedCache</c> key of a token's introspection answer: the registration's prefix and a SHA-256
    /// hash of the token, never the token itself.
    /// </summary>
    public string IntrospectionCacheKey(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        return string.Concat(_cacheKeyPrefix, Base64Url.EncodeToString(hash));
    }

    /// <summary>
    /// An answer means something only for the token service that gave it and the API resource that asked (another
    /// audience sees other tokens as active), so both are in the key: registrations that share one cache (two APIs
    /// in one host, or several services on one Redis) never read each other's answers. The authority is taken as
    /// configured, without a trailing slash; both values are length-prefixed before hashing so no two pairs can
    /// produce the same input.
    /// </summary>
    internal static string CacheKeyPrefix(string authority, string audience)
    {
        authority = authority.TrimEnd('/');
        var scope = string.Create(CultureInfo.InvariantCulture, $"{authority.Length}:{authority}|{audience.Length}:{audience}");
        return CachePrefix + Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(scope))) + ":";
    }

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
            _api.ValidatedTokenCacheSize > 0 ? new ValidatedJwtCache(_api.ValidatedTokenCacheSize, _api.ClockSkew) : null);
        _current = current;
        return current;
    }
}

/// <summary>Everything derived from one discovery document.</summary>
internal sealed record ValidationContext(OpenIdConnectConfiguration Configuration, TokenValidationParameters Parameters, ValidatedJwtCache? Cache);
