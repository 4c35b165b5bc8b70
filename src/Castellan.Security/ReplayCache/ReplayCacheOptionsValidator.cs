using Microsoft.Extensions.Options;

namespace Castellan.Security;

internal sealed class ReplayCacheOptionsValidator : IValidateOptions<ReplayCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplayCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxEntries < 1)
        {
            return ValidateOptionsResult.Fail($"ReplayCacheOptions.MaxEntries must be at least 1 (it is {options.MaxEntries}); the default is 100,000.");
        }

        if (options.KeyPrefix is null)
        {
            return ValidateOptionsResult.Fail("ReplayCacheOptions.KeyPrefix must not be null; use an empty string for no prefix.");
        }

        return ValidateOptionsResult.Success;
    }
}
