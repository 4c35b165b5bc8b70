using System.Collections.Concurrent;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// An API on Kestrel with <c>AddCastellanApi</c> (audience api1, with api1's secret for introspection):
/// <c>GET</c> or <c>POST /data</c> needs scope api1 and answers the client_id.
/// </summary>
internal static class TestApi
{
    /// <param name="services">Runs first: the test's own services, and Kestrel's options (an https endpoint, say).</param>
    /// <param name="map">Runs after <c>/data</c> is mapped: more endpoints, and middleware that must run before
    /// authentication (which must then call <c>UseAuthentication</c> and <c>UseAuthorization</c> itself).</param>
    public static Task<TestApp> StartAsync(string contentRoot, string authority, Action<CastellanApiOptions>? configure = null,
        Action<IServiceCollection>? services = null, ILoggerProvider? logs = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(contentRoot));
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        services?.Invoke(builder.Services);
        builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(options =>
        {
            options.Authority = authority;
            options.Audiences = ["api1"];
            options.ApiSecret = TokenServer.Api1Secret;
            configure?.Invoke(options);
        });
        var app = builder.Build();
        app.MapMethods("/data", ["GET", "POST"], (HttpContext context) => context.User.FindFirst("client_id")?.Value).RequireScope("api1");
        map?.Invoke(app);
        return TestApp.StartAsync(app);
    }

    public static async Task<HttpResponseMessage> CallAsync(TestApp api, string path, string? token)
    {
        using var http = api.CreateClient();
        if (token is not null)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return await http.GetAsync(path.TrimStart('/'));
    }
}

/// <summary>
/// A backchannel for <see cref="CastellanApiOptions.BackchannelHandler"/> that counts the requests per path, so a
/// test can tell how often the API went to the introspection endpoint.
/// </summary>
internal sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly ConcurrentQueue<string> _paths = new();

    public int Introspections => _paths.Count(p => p.EndsWith("/introspect", StringComparison.Ordinal));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _paths.Enqueue(request.RequestUri!.AbsolutePath);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The exception a cache provider throws when its server is down (each provider has its own type).</summary>
internal sealed class CacheUnavailableException() : Exception("The cache server is unreachable.");

/// <summary>
/// An <see cref="IDistributedCache"/> that keeps entries in memory (without expiry) unless told to fail or to
/// answer every read with fixed bytes, and records what was written.
/// </summary>
internal sealed class ScriptedDistributedCache : IDistributedCache
{
    private readonly ConcurrentDictionary<string, byte[]> _entries = new();

    public bool FailReads { get; init; }

    public bool FailWrites { get; init; }

    /// <summary>When set, every read answers these bytes, as if the entry had been corrupted.</summary>
    public byte[]? ReadAnswer { get; init; }

    public ICollection<string> Keys => _entries.Keys;

    public int Writes;

    public byte[]? Get(string key)
    {
        if (FailReads)
        {
            throw new CacheUnavailableException();
        }

        return ReadAnswer ?? _entries.GetValueOrDefault(key);
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        if (FailWrites)
        {
            throw new CacheUnavailableException();
        }

        Interlocked.Increment(ref Writes);
        _entries[key] = value;
    }

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        // Fail asynchronously, as a network client does.
        await Task.Yield();
        Set(key, value, options);
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key) => _entries.TryRemove(key, out _);

    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        Remove(key);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Records Castellan.ApiProtection's log entries that pass the host's filters (Warning and up in tests), by level
/// and event id.
/// </summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId)> _entries = new();

    public int Count(LogLevel level, int eventId) => _entries.Count(e => e.Level == level && e.EventId == eventId);

    public ILogger CreateLogger(string categoryName)
        => categoryName.StartsWith("Castellan.ApiProtection", StringComparison.Ordinal) ? new Logger(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => provider._entries.Enqueue((logLevel, eventId.Id));
    }
}
