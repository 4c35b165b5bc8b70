using Microsoft.Extensions.DependencyInjection;

namespace Castellan;

public static class CastellanServiceProviderExtensions
{
    /// <summary>
    /// Runs the checks the server runs at start (options; clients, scopes and resources against each other and the
    /// signing algorithms) without starting it and without creating or loading keys: for a deployment pipeline's
    /// "is this configuration good" step.
    /// </summary>
    /// <exception cref="CastellanConfigurationException">Clients, scopes or resources do not fit together.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Invalid <see cref="CastellanOptions"/>.</exception>
    public static void ValidateCastellanConfiguration(this IServiceProvider services)
        => services.GetRequiredService<CastellanStartupValidator>().Validate();
}
