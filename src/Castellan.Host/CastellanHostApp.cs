using Castellan.Host.Ui;
using Castellan.Interaction;
using Castellan.Keys;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.RateLimiting;

namespace Castellan.Host;

/// <summary>Composes the ready-to-run token service. Tests build it the same way <c>Program</c> does.</summary>
public static partial class CastellanHostApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder;
        try
        {
            // The content root is the application's folder, wherever the host is started from (a service manager,
            // a container, another working folder), so its shipped appsettings.json and relative defaults apply.
            // --contentRoot (or ASPNETCORE_CONTENTROOT) still chooses another.
            builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                Args = args,
                ContentRootPath = ContentRootIsConfigured(args) ? null : AppContext.BaseDirectory,

                // Razor Pages look for pages in the application's assembly; that is this one, also when a test
                // process or another program builds the host.
                ApplicationName = typeof(CastellanHostApp).Assembly.GetName().Name,
            });
        }
        catch (InvalidDataException ex)
        {
            throw JsonFileError(ex);
        }

        // `--config <file>` adds a JSON file on top of appsettings.json and the environment. A relative path is the
        // operator's: it is resolved against the current directory, not the content root.
        string? configFile = null;
        if (builder.Configuration["config"] is { Length: > 0 } file)
        {
            configFile = Path.GetFullPath(file);
            try
            {
                builder.Configuration.AddJsonFile(configFile, optional: false, reloadOnChange: false);
            }
            catch (InvalidDataException ex)
            {
                throw JsonFileError(ex);
            }

            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddCommandLine(args);
        }

        configure?.Invoke(builder);
        var loaded = HostConfiguration.Load(builder.Configuration, builder.Environment, configFile);
        var options = new CastellanOptions();
        HostConfiguration.BindOptions(builder.Configuration, options);
        var keyPath = Path.Combine(builder.Environment.ContentRootPath, options.KeyManagement.KeyPath);
        var dataProtectionKeys = DataProtectionFolder(builder, keyPath);
        var storage = HostStorage.Resolve(builder.Configuration, builder.Environment.ContentRootPath, keyPath);

        // A Data Protection folder the operator named is used with a database too.
        var dataProtectionFolderConfigured = builder.Configuration[$"{HostConfiguration.SectionName}:DataProtection:Path"] is { Length: > 0 };
        storage = storage with { DataProtectionInDatabase = storage.IsDatabase && !dataProtectionFolderConfigured };
        builder.Services.AddSingleton(storage);

        // Registered before Data Protection's and Castellan's own startup (which write the first keys), so the
        // folders exist owner-only before anything is written; run only when the server starts: check-config and
        // the key commands create nothing. With a database, the keys are in it, and the SQLite file's folder is
        // the one to keep private.
        var folders = new List<(string, string)>();
        if (!storage.IsDatabase)
        {
            folders.Add((keyPath, $"{HostConfiguration.SectionName}:KeyManagement:KeyPath"));
        }
        else if (storage.SqliteFolder is { } sqliteFolder)
        {
            folders.Add((sqliteFolder, storage.SqliteFolderSetting));
        }

        if (!storage.DataProtectionInDatabase)
        {
            folders.Add((dataProtectionKeys.Folder, dataProtectionKeys.Setting));
        }

        var unencryptedDataProtection = ConfigureDataProtection(builder, storage.DataProtectionInDatabase ? null : dataProtectionKeys.Folder);
        if (unencryptedDataProtection is not null && storage.DataProtectionInDatabase)
        {
            unencryptedDataProtection = "the database (" + storage.Describe() + ")";
        }

        var castellan = builder.Services.AddCastellan(o => HostConfiguration.BindOptions(builder.Configuration, o));
        castellan.AddInMemoryClients(loaded.Clients)
            .AddInMemoryApiScopes(loaded.ApiScopes)
            .AddInMemoryApiResources(loaded.ApiResources)
            .AddInMemoryIdentityResources(loaded.IdentityResources);
        storage.AddTo(castellan);

        // First of all hosted services, before the migration (which creates the SQLite file) and Castellan's own
        // startup (which writes the first keys).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(services =>
            new FolderPreparation(folders, services.GetRequiredService<ILoggerFactory>().CreateLogger("Castellan.Host"))));
        if (loaded.TestUsers.Count > 0)
        {
            castellan.AddTestUsers(loaded.TestUsers);
        }

        builder.Services.AddSingleton(loaded);
        AddPages(builder, loaded.Branding);

        AddStaticSigningKey(builder, castellan);

        builder.Services.AddHealthChecks().AddCastellanChecks();
        var rateLimited = ConfigureRateLimiting(builder);
        var forwardedCertificates = HostMutualTls.Configure(builder);

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Castellan.Host");
        if (loaded.IsDemo)
        {
            // The secret is in the documentation, never in a log.
            LogDemo(logger, DemoConfiguration.ClientId);
        }

        if (unencryptedDataProtection is not null)
        {
            LogUnencryptedDataProtection(logger, unencryptedDataProtection);
        }

        LogStorage(logger, storage.Describe());

        app.Lifetime.ApplicationStarted.Register(() => LogListening(logger, string.Join(", ", app.Urls)));
        // First, so that every answer of a page has the headers, also one the rate limiter gives.
        app.UseMiddleware<PageSecurityHeaders>();
        if (forwardedCertificates)
        {
            // Before the endpoints: the proxy's header becomes the connection's client certificate.
            app.UseCertificateForwarding();
        }

        var castellanEndpoints = app.MapCastellan();
        var pages = app.MapRazorPages();
        if (rateLimited)
        {
            app.UseRateLimiter();
            castellanEndpoints.RequireRateLimiting(RateLimitPolicy);

            // The login form takes passwords: the same per-address limit as the endpoints that take secrets.
            pages.RequireRateLimiting(RateLimitPolicy);
        }

        // Liveness: the process answers and its keys load. Not the database: a node is not restarted for an outage
        // it recovers from by itself.
        app.MapHealthChecks("/health", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            Predicate = check => !check.Tags.Contains(Castellan.Storage.EntityFramework.EntityFrameworkStoreExtensions.DatabaseTag),
        });

        // For load balancers and orchestrators: the keys load and the database answers.
        app.MapHealthChecks("/health/ready", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(CastellanHealthChecksExtensions.ReadyTag),
            ResponseWriter = WriteHealthAsync,
        });
        return app;
    }

    /// <summary>Each check's status and description (never an exception's details), so an operator sees which part is not ready.</summary>
    private static Task WriteHealthAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }

    /// <summary>
    /// The login, consent, logout and error pages (docs/ui.md), their branding and inline assets. Razor Pages check
    /// an antiforgery token on every POST.
    /// </summary>
    private static void AddPages(WebApplicationBuilder builder, Branding branding)
    {
        builder.Services.AddRazorPages();
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = ".Castellan.Antiforgery";
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;

            // PageSecurityHeaders sends DENY on every page; antiforgery's own SAMEORIGIN would be weaker.
            options.SuppressXFrameOptionsHeader = true;
        });
        builder.Services.AddSingleton(branding);
        builder.Services.AddSingleton(new PageAssets(branding));
    }

    /// <summary>Whether the operator chose the content root (command line or environment).</summary>
    private static bool ContentRootIsConfigured(string[] args)
        => args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase) || a.StartsWith("/contentRoot", StringComparison.OrdinalIgnoreCase))
           || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
           || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));

    /// <summary>A malformed JSON file: its path, line and position, as one configuration error.</summary>
    private static CastellanConfigurationException JsonFileError(InvalidDataException ex)
    {
        var json = ex.InnerException as System.Text.Json.JsonException ?? ex.InnerException?.InnerException as System.Text.Json.JsonException;
        var where = json is { LineNumber: { } line } ? $" at line {line + 1}, position {json.BytePositionInLine + 1}" : "";
        var reason = json?.Message is { } message ? message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].TrimEnd() : ex.InnerException?.Message ?? ex.Message;
        return new CastellanConfigurationException([$"{ex.Message.Replace("Failed to load configuration from file", "The configuration file", StringComparison.Ordinal).TrimEnd('.')} is not valid JSON{where}: {reason}"]);
    }

    /// <summary>
    /// The key folder holds the signing keys and (by default) the Data Protection keys that decrypt them: created
    /// owner-only (0700) before anything is written into it. An unusable path is a named configuration error.
    /// </summary>
    private static void CreateOwnerOnlyFolder(string path, string setting)
    {
        try
        {
            FileSystemSigningKeyStore.CreateOwnerOnlyDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CastellanConfigurationException([$"{setting}: the folder '{path}' could not be created ({ex.Message}). Choose a folder this user may write, e.g. an absolute path under its home or a service data folder."]);
        }
    }

    /// <summary>Creates the key folders owner-only when the server starts.</summary>
    private sealed class FolderPreparation(IReadOnlyList<(string Path, string Setting)> folders, ILogger logger) : IHostedService
    {
        private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                                                  | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var (path, setting) in folders)
            {
                if (Directory.Exists(path))
                {
                    // The operator's folder keeps its mode; say so when others may read the keys in it.
                    if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
                    {
                        LogFolderOpen(logger, path, setting);
                    }

                    continue;
                }

                CreateOwnerOnlyFolder(path, setting);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private const string RateLimitPolicy = "castellan";

    /// <summary>
    /// <c>Castellan:RateLimiting:PermitLimit</c> requests per <c>Window</c> (default 1 minute) per client address on
    /// Castellan's endpoints, against secret guessing. Off unless configured: behind a proxy every caller would share
    /// the proxy's address.
    /// </summary>
    private static bool ConfigureRateLimiting(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection($"{HostConfiguration.SectionName}:RateLimiting");
        if (!section.Exists())
        {
            return false;
        }

        int permitLimit;
        TimeSpan window;
        try
        {
            permitLimit = section.GetValue<int>("PermitLimit");
            window = section.GetValue("Window", TimeSpan.FromMinutes(1));
        }
        catch (InvalidOperationException ex)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:RateLimiting: {ex.InnerException?.Message ?? ex.Message}"]);
        }

        if (permitLimit <= 0 || window <= TimeSpan.Zero)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:RateLimiting: PermitLimit must be a positive number and Window a positive time span (e.g. \"00:01:00\")."]);
        }

        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permitLimit, Window = window }));
        });
        return true;
    }

    /// <summary>
    /// <c>Castellan:SigningKey:Path</c>: a key the operator manages, as a PEM private key or a PKCS#12 certificate
    /// (<c>.pfx</c>/<c>.p12</c>, with <c>Password</c>). It turns automatic key management off.
    /// </summary>
    private static void AddStaticSigningKey(WebApplicationBuilder builder, ICastellanBuilder castellan)
    {
        var section = builder.Configuration.GetSection($"{HostConfiguration.SectionName}:SigningKey");
        if (section["Path"] is not { Length: > 0 } path)
        {
            return;
        }

        // Relative paths are resolved against the content root, like KeyManagement.KeyPath.
        path = Path.Combine(builder.Environment.ContentRootPath, path);
        var algorithm = section["Algorithm"] ?? SigningAlgorithms.RS256;
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                // The certificate must outlive this method: the signing key lives as long as the app.
                var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, section["Password"], X509KeyStorageFlags.EphemeralKeySet);
                castellan.AddSigningCredential(certificate, algorithm);
            }
            else
            {
                castellan.AddSigningKeyFromPemFile(path, algorithm);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:SigningKey:Path: '{path}' could not be used as a {algorithm} signing key ({ex.Message})."]);
        }
    }

    /// <summary>Where the Data Protection keys live (<c>Castellan:DataProtection:Path</c>, else beside the signing keys), and the setting that says so.</summary>
    private static (string Folder, string Setting) DataProtectionFolder(WebApplicationBuilder builder, string keyPath)
        => builder.Configuration[$"{HostConfiguration.SectionName}:DataProtection:Path"] is { Length: > 0 } configured
            ? (Path.Combine(builder.Environment.ContentRootPath, configured), $"{HostConfiguration.SectionName}:DataProtection:Path")
            : (Path.Combine(keyPath, "dataprotection"), $"{HostConfiguration.SectionName}:KeyManagement:KeyPath");

    /// <summary>
    /// Signing keys are encrypted with Data Protection; its own keys live beside them (or in
    /// <c>Castellan:DataProtection:Path</c>) so a restart can decrypt. On Linux those keys are plain XML unless a
    /// certificate protects them: <c>Castellan:DataProtection:CertificatePath</c> (PKCS#12) and
    /// <c>CertificatePassword</c>.
    /// </summary>
    /// <returns>The Data Protection key folder when its keys are stored unencrypted, else null.</returns>
    /// <param name="folder">The key folder; null when the keys live in the database (its store registers itself).</param>
    private static string? ConfigureDataProtection(WebApplicationBuilder builder, string? folder)
    {
        var section = builder.Configuration.GetSection($"{HostConfiguration.SectionName}:DataProtection");
        var contentRoot = builder.Environment.ContentRootPath;
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("Castellan");
        if (folder is not null)
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(folder));
        }

        if (section["CertificatePath"] is not { Length: > 0 } certificatePath)
        {
            return folder ?? "";
        }

        certificatePath = Path.Combine(contentRoot, certificatePath);
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, section["CertificatePassword"],
                X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:DataProtection:CertificatePath: '{certificatePath}' could not be loaded as a PKCS#12 file with the given CertificatePassword ({ex.Message})."]);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new CastellanConfigurationException([$"{HostConfiguration.SectionName}:DataProtection:CertificatePath: '{certificatePath}' holds no private key; Data Protection needs it to read its keys back."]);
        }

        // Data Protection keys are then written encrypted to the certificate, and read back with it.
        dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        return null;
    }

    [LoggerMessage(10, LogLevel.Warning, "No clients or resources are configured: serving the DEMO configuration (client '{ClientId}' with the secret README.md gives, scope 'api1'; user 'alice' with the password docs/ui.md gives). Do not use it in production.", EventName = "DemoConfiguration")]
    private static partial void LogDemo(ILogger logger, string clientId);

    [LoggerMessage(12, LogLevel.Warning, "The Data Protection keys in {Folder}, which encrypt the signing keys, are stored unencrypted. Set Castellan:DataProtection:CertificatePath to encrypt them (see docs/key-management.md).", EventName = "DataProtectionUnencrypted")]
    private static partial void LogUnencryptedDataProtection(ILogger logger, string folder);

    [LoggerMessage(14, LogLevel.Information, "Storage: {Storage}.", EventName = "Storage")]
    private static partial void LogStorage(ILogger logger, string storage);

    [LoggerMessage(13, LogLevel.Warning, "The key folder {Folder} ({Setting}) can be read or entered by other users; restrict it with `chmod 700`.", EventName = "KeyFolderOpen")]
    private static partial void LogFolderOpen(ILogger logger, string folder, string setting);

    [LoggerMessage(11, LogLevel.Information, "Castellan is listening on {Urls}. Discovery: /.well-known/openid-configuration", EventName = "Listening")]
    private static partial void LogListening(ILogger logger, string urls);
}
