using Castellan.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Castellan;

public static class CastellanHealthChecksExtensions
{
    /// <summary>The tag of the checks a readiness probe runs (<c>/health/ready</c> in the host): keys, and the database when there is one.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Adds a check that the signing keys can be loaded (the token service cannot issue tokens otherwise).</summary>
    public static IHealthChecksBuilder AddCastellanChecks(this IHealthChecksBuilder builder)
        => builder.AddCheck<SigningKeysHealthCheck>("castellan-signing-keys", tags: [ReadyTag]);
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
