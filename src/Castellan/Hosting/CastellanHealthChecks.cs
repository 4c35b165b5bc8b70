using Castellan.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Castellan;

public static class CastellanHealthChecksExtensions
{
    /// <summary>Adds a check that the signing keys can be loaded (the token service cannot issue tokens otherwise).</summary>
    public static IHealthChecksBuilder AddCastellanChecks(this IHealthChecksBuilder builder)
        => builder.AddCheck<SigningKeysHealthCheck>("castellan-signing-keys");
}

internal sealed class SigningKeysHealthCheck(KeyRingProvider keys) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Signing with {string.Join(", ", ring.Algorithms)}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("Signing keys are unavailable.", ex);
        }
    }
}
