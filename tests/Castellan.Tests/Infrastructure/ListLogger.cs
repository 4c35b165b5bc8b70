using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Castellan.Tests.Infrastructure;

/// <summary>Records log events so tests can assert that a refusal was reported, and at which level.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Entries.Enqueue((logLevel, eventId, formatter(state, exception)));

    public bool Has(string eventName, LogLevel level) => Entries.Any(e => e.Event.Name == eventName && e.Level == level);
}
