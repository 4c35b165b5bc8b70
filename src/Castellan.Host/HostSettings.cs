namespace Castellan.Host;

/// <summary>
/// Everything the host reads from its <c>Castellan</c> section, as types: the engine's
/// <see cref="CastellanOptions"/>, the configuration model, and the host's own settings. The schema check walks
/// this shape, so a name or value the host would not use is an error, not silently dropped.
/// </summary>
internal sealed class HostSettings
{
    // CastellanOptions
    public string? IssuerUri { get; set; }

    public EndpointPaths Endpoints { get; } = new();

    public DiscoveryOptions Discovery { get; } = new();

    public KeyManagementOptions KeyManagement { get; } = new();

    public InputLengthRestrictions InputLengthRestrictions { get; } = new();

    public UserInteractionOptions UserInteraction { get; } = new();

    public UserSessionOptions Session { get; } = new();

    public TimeSpan ConfigurationCacheLifetime { get; set; }

    // The configuration model
    public List<Client> Clients { get; set; } = [];

    public List<ApiScope> ApiScopes { get; set; } = [];

    public List<ApiResource> ApiResources { get; set; } = [];

    public List<IdentityResource> IdentityResources { get; set; } = [];

    // The host's own
    /// <summary>Serve the demo client outside Development. Default: false.</summary>
    public bool Demo { get; set; }

    /// <summary>
    /// Take the issuer from each request's Host header in Production, for deployments behind a proxy that sets
    /// Host itself. Default: false (IssuerUri is required in Production).
    /// </summary>
    public bool AllowInferredIssuer { get; set; }

    public RateLimitingSettings RateLimiting { get; } = new();

    public SigningKeySettings SigningKey { get; } = new();

    public DataProtectionSettings DataProtection { get; } = new();

    /// <summary>Client certificates (RFC 8705, docs/mtls.md): the engine's <see cref="MutualTlsOptions"/> and how the host receives them.</summary>
    public MutualTlsSettings MutualTls { get; } = new();

    /// <summary>Where clients, grants, keys and Data Protection keys are kept (docs/storage.md).</summary>
    public StorageSettings Storage { get; } = new();

    /// <summary>How the sign-in pages look: product name, logo, colour, footer.</summary>
    public BrandingSettings Branding { get; } = new();

    /// <summary>Users kept in memory (<see cref="TestUser"/>), for development, tests and small fixed deployments.</summary>
    public List<TestUserSettings> TestUsers { get; set; } = [];

    internal sealed class RateLimitingSettings
    {
        public int PermitLimit { get; set; }

        public TimeSpan Window { get; set; }
    }

    internal sealed class SigningKeySettings
    {
        public string? Path { get; set; }

        public string? Algorithm { get; set; }

        public string? Password { get; set; }
    }

    internal sealed class StorageSettings
    {
        /// <summary>Sqlite (the default: a file in the data folder), PostgreSql, or InMemory (nothing survives a restart but the key folder).</summary>
        public HostStorageProvider Provider { get; set; } = HostStorageProvider.Sqlite;

        /// <summary>Apply the shipped migrations when the server starts. Default: true; safe with several nodes starting at once.</summary>
        public bool MigrateOnStartup { get; set; } = true;

        /// <summary>How often expired grants are removed. Default: 5 minutes.</summary>
        public TimeSpan? CleanupInterval { get; set; }

        /// <summary>Read configuration changes as the database announces them, not only once per ConfigurationCacheLifetime. Default: true.</summary>
        public bool NotifyConfigurationChanges { get; set; } = true;
    }

    internal sealed class MutualTlsSettings
    {
        public bool Enabled { get; set; }

        public string? EndpointBaseUrl { get; set; }

        public System.Security.Cryptography.X509Certificates.X509ChainTrustMode? ChainTrustMode { get; set; }

        public System.Security.Cryptography.X509Certificates.X509RevocationMode? RevocationMode { get; set; }

        public bool AlwaysEmitConfirmationClaim { get; set; }

        /// <summary>PEM or DER files of the CAs that issue <c>tls_client_auth</c> certificates; set, only they are trusted.</summary>
        public List<string> TrustedRootCertificateFiles { get; set; } = [];

        public List<string> IntermediateCertificateFiles { get; set; } = [];

        /// <summary>
        /// The request header a TLS-terminating proxy puts the client certificate in (base64 DER, or URL-encoded PEM);
        /// null (the default): no header is read, a certificate comes from Kestrel's own TLS only.
        /// </summary>
        public string? ForwardedCertificateHeader { get; set; }
    }

    internal sealed class DataProtectionSettings
    {
        public string? Path { get; set; }

        public string? CertificatePath { get; set; }

        public string? CertificatePassword { get; set; }
    }

    internal sealed class BrandingSettings
    {
        /// <summary>The product name in the page header and title. Default: "Castellan".</summary>
        public string? Name { get; set; }

        /// <summary>An https URL or a local path ("/logo.svg") of a logo shown beside the name.</summary>
        public string? LogoUrl { get; set; }

        /// <summary>The colour of buttons and links, as a CSS hex colour <c>#rrggbb</c>.</summary>
        public string? PrimaryColor { get; set; }

        public string? FooterText { get; set; }
    }

    internal sealed class TestUserSettings
    {
        public string? SubjectId { get; set; }

        public string? Username { get; set; }

        public string? Password { get; set; }

        /// <summary>Claim type to value; value types follow OIDC Core §5.1 (see <see cref="TestUserConfiguration"/>).</summary>
        public Dictionary<string, string> Claims { get; set; } = [];

        public bool IsActive { get; set; } = true;
    }
}

internal enum HostStorageProvider
{
    Sqlite,
    PostgreSql,
    InMemory,
}
