using Castellan.Keys;
using Microsoft.AspNetCore.DataProtection;

namespace Castellan.Host;

/// <summary>Composes the ready-to-run token service. Tests build it the same way <c>Program</c> does.</summary>
public static partial class CastellanHostApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        // `--config <file>` adds a JSON file on top of appsettings.json and the environment.
        if (builder.Configuration["config"] is { Length: > 0 } file)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
            builder.Configuration.AddEnvironmentVariables();
            builder.Configuration.AddCommandLine(args);
        }

        configure?.Invoke(builder);
        var loaded = HostConfiguration.Load(builder.Configuration);
        var options = new CastellanOptions();
        HostConfiguration.BindOptions(builder.Configuration, options);
        var keyPath = Path.IsPathRooted(options.KeyManagement.KeyPath)
            ? options.KeyManagement.KeyPath
            : Path.Combine(builder.Environment.ContentRootPath, options.KeyManagement.KeyPath);

        // Signing keys are encrypted with Data Protection; its own keys live beside them so a restart can decrypt.
        builder.Services.AddDataProtection()
            .SetApplicationName("Castellan")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(keyPath, "dataprotection")));

        var castellan = builder.Services.AddCastellan(o => HostConfiguration.BindOptions(builder.Configuration, o))
            .AddInMemoryClients(loaded.Clients)
            .AddInMemoryApiScopes(loaded.ApiScopes)
            .AddInMemoryApiResources(loaded.ApiResources)
            .AddInMemoryIdentityResources(loaded.IdentityResources);

        if (builder.Configuration["Castellan:SigningKey:Path"] is { Length: > 0 } pemPath)
        {
            // Relative paths are resolved against the content root, like KeyManagement.KeyPath.
            pemPath = Path.IsPathRooted(pemPath) ? pemPath : Path.Combine(builder.Environment.ContentRootPath, pemPath);
            castellan.AddSigningKeyFromPemFile(pemPath, builder.Configuration["Castellan:SigningKey:Algorithm"] ?? SigningAlgorithms.RS256);
        }

        builder.Services.AddHealthChecks().AddCastellanChecks();

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Castellan.Host");
        if (loaded.IsDemo)
        {
            LogDemo(logger, DemoConfiguration.ClientId, DemoConfiguration.ClientSecret);
        }

        app.Lifetime.ApplicationStarted.Register(() => LogListening(logger, string.Join(", ", app.Urls)));
        app.MapCastellan();
        app.MapHealthChecks("/health");
        return app;
    }

    [LoggerMessage(10, LogLevel.Warning, "No clients or resources are configured: serving the DEMO configuration (client '{ClientId}', secret '{Secret}', scope 'api1'). Do not use it in production.", EventName = "DemoConfiguration")]
    private static partial void LogDemo(ILogger logger, string clientId, string secret);

    [LoggerMessage(11, LogLevel.Information, "Castellan is listening on {Urls}. Discovery: /.well-known/openid-configuration", EventName = "Listening")]
    private static partial void LogListening(ILogger logger, string urls);
}
