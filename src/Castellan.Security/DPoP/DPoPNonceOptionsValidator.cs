using Microsoft.Extensions.Options;

namespace Castellan.Security;

internal sealed class DPoPNonceOptionsValidator : IValidateOptions<DPoPNonceOptions>
{
    public ValidateOptionsResult Validate(string? name, DPoPNonceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Lifetime < TimeSpan.FromSeconds(5) || options.Lifetime > TimeSpan.FromDays(1))
        {
            return ValidateOptionsResult.Fail($"DPoPNonceOptions.Lifetime must be between 5 seconds and one day (it is {options.Lifetime}); the default is 5 minutes.");
        }

        if (options.HmacKey is { Length: < 32 })
        {
            return ValidateOptionsResult.Fail($"DPoPNonceOptions.HmacKey must be at least 32 bytes (it is {options.HmacKey.Length}); use RandomNumberGenerator.GetBytes(32), the same on every node.");
        }

        return ValidateOptionsResult.Success;
    }
}
