namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>
/// A test class around one <see cref="TokenServer"/> on loopback, started before its tests and stopped after, with
/// a client for it.
/// </summary>
public abstract class TokenServerTest : IAsyncLifetime
{
    protected TempDirectory Root { get; } = new();

    protected TestApp Server { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    /// <summary>Starts the server in <paramref name="root"/>; override to configure it.</summary>
    protected virtual Task<TestApp> StartServerAsync(TempDirectory root) => TokenServer.StartAsync(root);

    public async Task InitializeAsync()
    {
        Server = await StartServerAsync(Root);
        Http = Server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Root.Dispose();
    }
}
