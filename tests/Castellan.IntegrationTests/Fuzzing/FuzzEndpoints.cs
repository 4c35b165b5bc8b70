using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// The endpoints to fuzz, read from the running app's routing (every <see cref="RouteEndpoint"/> whose display name
/// starts with "Castellan "), each joined with its <see cref="FuzzTargets"/> entry.
/// </summary>
internal static class FuzzEndpoints
{
    public const string DisplayNamePrefix = "Castellan ";

    public static IReadOnlyList<(string DisplayName, string Path)> Mapped(IServiceProvider services)
        =>
        [
            .. services.GetRequiredService<EndpointDataSource>().Endpoints
                .OfType<RouteEndpoint>()
                .Where(e => e.DisplayName?.StartsWith(DisplayNamePrefix, StringComparison.Ordinal) == true)
                .Select(e => (e.DisplayName!, "/" + e.RoutePattern.RawText!.TrimStart('/')))
                .OrderBy(e => e.Item2, StringComparer.Ordinal),
        ];

    /// <summary>The mapped endpoints with their table entries; fails naming every mapped endpoint the table lacks.</summary>
    public static IReadOnlyList<FuzzEndpoint> Resolve(IServiceProvider services, FuzzCredentials credentials)
    {
        var mapped = Mapped(services);
        Assert.True(mapped.Count > 0, "No endpoint with a display name starting with 'Castellan ' is mapped: did MapCastellan change its display names?");
        var missing = mapped.Where(e => FuzzTargets.Find(e.DisplayName, credentials) is null).ToList();
        Assert.True(missing.Count == 0,
            "Mapped Castellan endpoints without a fuzz target: " +
            string.Join(", ", missing.Select(e => $"'{e.DisplayName}' at {e.Path}")) +
            ". Register each in tests/Castellan.IntegrationTests/Fuzzing/FuzzTargets.cs: its display name, the parameters it reads and a valid baseline request.");

        return [.. mapped.Select(e => new FuzzEndpoint(e.DisplayName, e.Path, FuzzTargets.Find(e.DisplayName, credentials)!))];
    }
}
