using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Castellan.Storage.EntityFramework;

/// <summary>Store latency and failures, on the <c>Castellan</c> meter the engine's own metrics use.</summary>
internal static class StoreTelemetry
{
    private static readonly Meter Meter = new("Castellan");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("castellan.store.duration", unit: "ms",
        description: "Time of one store operation against the database, tagged operation and result=ok|unavailable|error.");

    public static readonly Histogram<int> GrantBatch = Meter.CreateHistogram<int>("castellan.store.grant_batch", unit: "{write}",
        description: "Grant writes (stores, consumptions, rotations) committed together in one transaction.");

    public static readonly Counter<long> Failures = Meter.CreateCounter<long>("castellan.store.failures",
        description: "Store operations that failed, tagged operation and result=unavailable|error.");
}

/// <summary>Ready when the database answers and has Castellan's tables (a query on the configuration version).</summary>
internal sealed class DatabaseHealthCheck(CastellanDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.RunAsync(db => db.ConfigurationState.AsNoTracking().AnyAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{database.Provider} answers.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} is unavailable or not migrated.", ex);
        }
    }
}
