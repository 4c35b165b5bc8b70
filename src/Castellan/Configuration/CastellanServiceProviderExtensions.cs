using Microsoft.Extensions.DependencyInjection;

namespace Castellan;

public static class CastellanServiceProviderExtensions
{
    /// <summary>
    /// Runs the checks the server runs at start (options; clients, scopes and resources against each other and the
    /// signing algorithms) without starting it and without creating or loading keys: for a deployment pipeline's
    /// "is this configuration good" step. With a configuration store (a database), this checks what is configured
    /// in code on its own; <see cref="ValidateCastellanConfigurationAsync"/> reads the store and checks both together.
    /// </summary>
    /// <exception cref="CastellanConfigurationException">Clients, scopes or resources do not fit together.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Invalid <see cref="CastellanOptions"/>.</exception>
    public static void ValidateCastellanConfiguration(this IServiceProvider services)
        => services.GetRequiredService<CastellanStartupValidator>().ValidateInCode();

    /// <summary>The checks of <see cref="ValidateCastellanConfiguration"/>, on what is configured in code and what the configuration store holds, together.</summary>
    /// <exception cref="CastellanConfigurationException">Clients, scopes or resources do not fit together.</exception>
    /// <exception cref="Stores.StoreUnavailableException">The configuration store cannot be read.</exception>
    public static Task ValidateCastellanConfigurationAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
        => services.GetRequiredService<CastellanStartupValidator>().ValidateWithStoreAsync(cancellationToken);
}
