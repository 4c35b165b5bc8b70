using Microsoft.Extensions.Options;

namespace Castellan.Security;

internal static class OptionsGuard
{
    /// <summary>
    /// The options' own validator, run by constructors: services of this package may be built without DI (one per
    /// authentication scheme, say), and the options pipeline then never validates what they were given.
    /// </summary>
    public static void ThrowIfInvalid<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
        }
    }
}
