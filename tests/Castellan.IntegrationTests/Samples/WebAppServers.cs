using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WebApp;

namespace Castellan.IntegrationTests.Samples;

/// <summary>A fake provider and the web app sample pointed at it (as client <c>demo-web</c>), started once for a test class.</summary>
public sealed class WebAppServers : IAsyncLifetime
{
    public const string ClientId = "demo-web";

    private readonly TempDirectory _root = new();

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public FakeOpenIdProvider Provider { get; private set; } = null!;

    public TestApp WebApp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await FakeOpenIdProvider.StartAsync(_root.Path);
        WebApp = await TestApp.StartAsync(WebAppApp.Build(
            TestApp.Args(_root.Path, 0, $"--Authority={Provider.Issuer}", $"--ClientId={ClientId}"),
            builder => builder.Services.AddSingleton<TimeProvider>(Time)));
    }

    public async Task DisposeAsync()
    {
        await WebApp.DisposeAsync();
        await Provider.DisposeAsync();
        _root.Dispose();
    }
}
