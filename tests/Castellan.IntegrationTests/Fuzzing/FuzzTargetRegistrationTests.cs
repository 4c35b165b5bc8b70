using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Sdk;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>Every endpoint MapCastellan maps must be in <see cref="FuzzTargets"/>, so none escapes the fuzz test.</summary>
public sealed class FuzzTargetRegistrationTests
{
    private static readonly FuzzCredentials NoTokens = new("jwt", "handle");

    [Fact]
    public async Task Every_mapped_castellan_endpoint_has_a_fuzz_target()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root);

        var endpoints = FuzzEndpoints.Resolve(server.Services, NoTokens);

        Assert.Equal(FuzzEndpoints.Mapped(server.Services).Count, endpoints.Count);
        Assert.Contains(endpoints, e => e.DisplayName == "Castellan token endpoint" && e.Path == "/connect/token");
    }

    [Fact]
    public void A_mapped_endpoint_without_a_fuzz_target_fails_saying_where_to_register_it()
    {
        var unregistered = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/connect/deviceauthorization"), 0,
            EndpointMetadataCollection.Empty, "Castellan device authorization endpoint");
        using var services = new ServiceCollection()
            .AddSingleton<EndpointDataSource>(new DefaultEndpointDataSource(unregistered))
            .BuildServiceProvider();

        var error = Assert.ThrowsAny<XunitException>(() => FuzzEndpoints.Resolve(services, NoTokens));

        Assert.Contains("'Castellan device authorization endpoint' at /connect/deviceauthorization", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuzzTargets.cs", error.Message, StringComparison.Ordinal);
    }
}
