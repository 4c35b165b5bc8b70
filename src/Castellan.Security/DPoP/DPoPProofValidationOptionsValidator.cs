using Microsoft.Extensions.Options;

namespace Castellan.Security;

internal sealed class DPoPProofValidationOptionsValidator : IValidateOptions<DPoPProofValidationOptions>
{
    private static readonly TimeSpan MaxWindow = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, DPoPProofValidationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.AllowedAlgorithms is null || options.AllowedAlgorithms.Count == 0)
        {
            failures.Add("DPoPProofValidationOptions.AllowedAlgorithms is empty: allow at least one algorithm, such as ES256.");
        }
        else
        {
            foreach (var algorithm in options.AllowedAlgorithms)
            {
                if (algorithm is null || !DPoPProofValidator.VerifiableAlgorithms.Contains(algorithm))
                {
                    failures.Add($"DPoPProofValidationOptions.AllowedAlgorithms contains '{algorithm}'. A DPoP proof must use an asymmetric algorithm (RFC 9449 §4.3): use one of {string.Join(", ", DPoPProofValidator.VerifiableAlgorithms.Order(StringComparer.Ordinal))}; 'none' and the HS algorithms are never allowed.");
                }
            }
        }

        if (options.IatWindow <= TimeSpan.Zero || options.IatWindow > MaxWindow)
        {
            failures.Add($"DPoPProofValidationOptions.IatWindow must be more than zero and at most one hour (it is {options.IatWindow}); the default is 60 seconds.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > MaxWindow)
        {
            failures.Add($"DPoPProofValidationOptions.ClockSkew must be between zero and one hour (it is {options.ClockSkew}).");
        }

        if (options.MaxProofLength < 256)
        {
            failures.Add($"DPoPProofValidationOptions.MaxProofLength must be at least 256 characters (it is {options.MaxProofLength}); the default is 8,192.");
        }

        if (options.MaxJtiLength < 1)
        {
            failures.Add($"DPoPProofValidationOptions.MaxJtiLength must be at least 1 (it is {options.MaxJtiLength}); the default is 128.");
        }

        if (options.KeyCacheSize < 0)
        {
            failures.Add($"DPoPProofValidationOptions.KeyCacheSize must not be negative (it is {options.KeyCacheSize}); zero turns the cache off.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
