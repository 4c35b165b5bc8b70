using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>A logger provider that keeps every event, so tests can assert what was (and was not) logged.</summary>
public sealed class LogCollector : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId Event, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public IEnumerable<string> AtOrAbove(LogLevel level)
        => Entries.Where(e => e.Level >= level).Select(e => $"{e.Level} {e.Category} {e.Event.Name}: {e.Message} {e.Exception?.GetType().Name}");

    public bool Has(string eventName) => Entries.Any(e => e.Event.Name == eventName);

    public int Count(string eventName) => Entries.Count(e => e.Event.Name == eventName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue((category, logLevel, eventId, formatter(state, exception), exception));
    }
}
