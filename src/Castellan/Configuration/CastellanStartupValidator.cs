using Castellan.Keys;
using Castellan.Stores;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan;

/// <summary>Thrown at startup when clients, scopes or resources do not fit together.</summary>
public sealed class CastellanConfigurationException(IReadOnlyList<string> errors)
    : Exception("Castellan configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>The checks every configuration passes, wherever it comes from: clients, scopes and resources against each other and against the server's keys and grants.</summary>
internal sealed class ConfigurationRules(StaticKeys staticKeys, KeyRingProvider keys, IOptions<CastellanOptions> options, Endpoints.Token.TokenRequestValidator grants,
    Clients.Authentication.ClientRequestReader clientMethods)
{
    public List<string> Check(InMemoryConfiguration configuration)
    {
        var algorithms = keys.IsAutomatic
            ? options.Value.KeyManagement.EffectiveSigningAlgorithms.ToArray()
            : staticKeys.Signing.Select(s => s.Algorithm).Distinct().ToArray();
        return ConfigurationValidator.Validate(configuration, algorithms, grants.SupportedGrantTypes, clientMethods.RegisteredNames());
    }
}

/// <summary>
/// Validates the configuration before the server takes requests, and loads (on first start: creates) the
/// signing keys, so the first token request does not pay for key generation.
/// </summary>
internal sealed partial class CastellanStartupValidator(
    InMemoryConfiguration configuration,
    ConfigurationRules rules,
    StaticKeys staticKeys,
    KeyRingProvider keys,
    IOptions<CastellanOptions> options,
    ISigningKeyStore keyStore,
    Users.InMemoryUsers users,
    ILogger<CastellanStartupValidator> logger,
    IHostEnvironment? environment = null,
    SnapshotConfigurationStore? snapshots = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Validate();
        if (snapshots is not null)
        {
            // The stored configuration is validated together with the in-code one; invalid, the server does not start.
            await snapshots.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        if (options.Value.IssuerUri is null && environment is not null && !environment.IsDevelopment())
        {
            LogInferredIssuer(logger, environment.EnvironmentName);
        }

        var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
        LogLoaded(logger, configuration.Clients.Count, configuration.ApiScopes.Count, configuration.ApiResources.Count, configuration.IdentityResources.Count);
        LogKeys(logger, string.Join(", ", ring.Signing.Select(s => $"{s.Key} (kid {s.Value.Key.KeyId})")),
            keys.IsAutomatic ? (keyStore as FileSystemSigningKeyStore)?.Directory ?? keyStore.GetType().Name : "static signing credentials");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Options, and the clients, scopes and resources in code alone, also with a configuration store registered (which is then empty or unreachable).</summary>
    public void ValidateInCode()
    {
        Validate();
        if (snapshots is not null && rules.Check(configuration) is { Count: > 0 } errors)
        {
            throw new CastellanConfigurationException(errors);
        }
    }

    /// <summary>Options, and clients, scopes and resources from code and from the configuration store together.</summary>
    public async Task ValidateWithStoreAsync(CancellationToken cancellationToken)
    {
        Validate();
        if (snapshots is not null)
        {
            await snapshots.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Options, clients, scopes and resources, without touching the key store.</summary>
    /// <exception cref="CastellanConfigurationException">Clients, scopes or resources do not fit together.</exception>
    /// <exception cref="OptionsValidationException">Invalid <see cref="CastellanOptions"/>.</exception>
    /// <remarks>
    /// With a configuration store, the in-code part is validated here on its own only when no store is registered:
    /// its clients may name scopes that live in the store. <see cref="SnapshotConfigurationStore"/> validates both
    /// together.
    /// </remarks>
    public void Validate()
    {
        if (!keys.IsAutomatic && staticKeys.Signing.Count == 0)
        {
            throw new CastellanConfigurationException(["Automatic key management is disabled and no signing credential was added; call AddSigningCredential(...) or enable KeyManagement."]);
        }

        var errors = snapshots is null ? rules.Check(configuration) : [];
        errors.AddRange(ConfigurationValidator.ValidateUsers(users.Users));
        if (errors.Count > 0)
        {
            throw new CastellanConfigurationException(errors);
        }

        WarnAboutShortSecrets();
    }

    private void WarnAboutShortSecrets()
    {
        foreach (var client in configuration.Clients)
        {
            if (client.ClientSecrets.Any(IsShort))
            {
                LogShortSecret(logger, "Client", client.ClientId, Secret.RecommendedMinimumLength);
            }
        }

        foreach (var resource in configuration.ApiResources)
        {
            if (resource.ApiSecrets.Any(IsShort))
            {
                LogShortSecret(logger, "ApiResource", resource.Name, Secret.RecommendedMinimumLength);
            }
        }

        static bool IsShort(Secret secret) => secret.PlainTextLength < Secret.RecommendedMinimumLength;
    }

    [LoggerMessage(4, LogLevel.Warning, "IssuerUri is not set in the {Environment} environment: the issuer is taken from each request's Host header. Set IssuerUri unless a proxy in front sets Host itself.", EventName = "IssuerInferred")]
    private static partial void LogInferredIssuer(ILogger logger, string environment);

    [LoggerMessage(3, LogLevel.Warning, "{Kind} '{Name}' has a plain-text secret shorter than {Length} characters; it can be guessed. Generate one with `new-secret`.", EventName = "ShortSecret")]
    private static partial void LogShortSecret(ILogger logger, string kind, string name, int length);

    [LoggerMessage(1, LogLevel.Information, "Castellan configuration: {Clients} clients, {ApiScopes} API scopes, {ApiResources} API resources, {IdentityResources} identity resources.", EventName = "ConfigurationLoaded")]
    private static partial void LogLoaded(ILogger logger, int clients, int apiScopes, int apiResources, int identityResources);

    [LoggerMessage(2, LogLevel.Information, "Signing with {Keys}; keys from {KeySource}.", EventName = "SigningKeysLoaded")]
    private static partial void LogKeys(ILogger logger, string keys, string keySource);
}
