using System.Collections.Frozen;
using Castellan.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Castellan.Stores;

/// <summary>
/// Clients and resources from an <see cref="IConfigurationSnapshotSource"/> together with those added in code, as
/// one validated snapshot. Requests read the snapshot from memory and never wait for the source: once a cache
/// lifetime has passed, or as soon as the source announces a change (<see cref="IConfigurationChangeNotifier"/>),
/// a check starts in the background (the source's version; the whole configuration only when that changed) while
/// requests are answered from the snapshot there is.
/// </summary>
/// <remarks>
/// A snapshot stays the same instances until the source changes, so the per-client and per-resource work the
/// engine caches by instance (<c>ClientModel</c>, the resource index) is done once per change, not per request. A
/// change that does not validate, or a source that cannot be read, leaves the last good snapshot in use: the
/// token endpoint keeps working through a database outage for everything that does not need the database.
/// </remarks>
internal sealed partial class SnapshotConfigurationStore : IClientStore, IResourceStore, IDisposable
{
    /// <summary>After a failed check, the next one comes sooner than a whole lifetime later.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private readonly IConfigurationSnapshotSource _source;
    private readonly InMemoryConfiguration _inCode;
    private readonly ConfigurationRules _rules;
    private readonly IOptions<CastellanOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotConfigurationStore> _logger;
    private readonly IDisposable? _changeSubscription;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private volatile Snapshot? _current;
    private int _checking;

    // Change announcements received, and how many of them a version read that started after them has covered.
    private long _announced;
    private long _covered;

    public SnapshotConfigurationStore(
        IConfigurationSnapshotSource source,
        InMemoryConfiguration inCode,
        ConfigurationRules rules,
        IOptions<CastellanOptions> options,
        TimeProvider time,
        ILogger<SnapshotConfigurationStore> logger)
    {
        _source = source;
        _inCode = inCode;
        _rules = rules;
        _options = options;
        _time = time;
        _logger = logger;
        if (source is IConfigurationChangeNotifier notifier)
        {
            _changeSubscription = ChangeToken.OnChange(notifier.GetChangeToken, Invalidate);
        }
    }

    public ValueTask<Client?> FindClientByIdAsync(string clientId, CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is null)
        {
            return FindSlowAsync(clientId, cancellationToken);
        }

        CheckIfDue(current);
        return ValueTask.FromResult(current.Clients.GetValueOrDefault(clientId));
    }

    public ValueTask<Resources> GetAllResourcesAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is null)
        {
            return ResourcesSlowAsync(cancellationToken);
        }

        CheckIfDue(current);
        return ValueTask.FromResult(current.Resources);
    }

    /// <summary>The version of the snapshot in use, or null before the first load.</summary>
    public long? Version => _current?.Version;

    /// <summary>Reads and validates the configuration if that has not happened yet.</summary>
    /// <exception cref="CastellanConfigurationException">The stored and in-code configuration do not validate together.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_current is not null)
        {
            return;
        }

        await _loadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current is not null)
            {
                return;
            }

            var announced = Interlocked.Read(ref _announced);
            var loaded = await _source.LoadAsync(cancellationToken).ConfigureAwait(false);
            var (snapshot, errors) = Build(loaded);
            if (errors.Count > 0)
            {
                throw new CastellanConfigurationException(errors);
            }

            Interlocked.Exchange(ref _covered, announced);
            _current = snapshot;
            LogLoaded(_logger, loaded.Version, snapshot.Clients.Count, snapshot.Resources.ApiScopes.Count, snapshot.Resources.ApiResources.Count, snapshot.Resources.IdentityResources.Count);

            // A change announced while this read ran may be newer than what it read.
            if (Interlocked.Read(ref _announced) != announced)
            {
                StartCheck();
            }
        }
        finally
        {
            _loadGate.Release();
        }
    }

    /// <summary>Checks the source now rather than at the end of the cache lifetime (the admin commands of a node call it).</summary>
    public Task RefreshAsync(CancellationToken cancellationToken) => CheckAsync(force: true, cancellationToken);

    private async ValueTask<Client?> FindSlowAsync(string clientId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return _current!.Clients.GetValueOrDefault(clientId);
    }

    private async ValueTask<Resources> ResourcesSlowAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return _current!.Resources;
    }

    /// <summary>
    /// The source announced a change: its version is checked now, in the background, rather than at the end of the
    /// cache lifetime. Lookups are answered from the snapshot in use until the new one is read and validated.
    /// </summary>
    internal void Invalidate()
    {
        Interlocked.Increment(ref _announced);
        if (_current is not null)
        {
            StartCheck();
        }
    }

    public void Dispose() => _changeSubscription?.Dispose();

    private void CheckIfDue(Snapshot current)
    {
        if (_time.GetTimestamp() >= current.CheckAfter)
        {
            StartCheck();
        }
    }

    private void StartCheck()
    {
        if (Interlocked.CompareExchange(ref _checking, 1, 0) != 0)
        {
            return;
        }

        // In the background: the request that noticed is answered from the snapshot it has.
        _ = Task.Run(CheckInBackgroundAsync);
    }

    private async Task CheckInBackgroundAsync()
    {
        while (true)
        {
            try
            {
                // Again while announcements came during a check: the version it read may be older than theirs.
                long announced;
                do
                {
                    announced = Interlocked.Read(ref _announced);
                    await CheckAsync(force: announced != Interlocked.Read(ref _covered), CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Exchange(ref _covered, announced);
                }
                while (Interlocked.Read(ref _announced) != announced);
            }
            finally
            {
                Volatile.Write(ref _checking, 0);
            }

            // An announcement between the last look and the release found this check running and left itself to it.
            if (Interlocked.Read(ref _announced) == Interlocked.Read(ref _covered) || Interlocked.CompareExchange(ref _checking, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task CheckAsync(bool force, CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is null)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await _loadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current!;
            if (!force && _time.GetTimestamp() < current.CheckAfter)
            {
                return;
            }

            try
            {
                var version = await _source.GetVersionAsync(cancellationToken).ConfigureAwait(false);
                if (version == current.Version)
                {
                    _current = current with { CheckAfter = NextCheck(_options.Value.ConfigurationCacheLifetime) };
                    return;
                }

                var loaded = await _source.LoadAsync(cancellationToken).ConfigureAwait(false);
                var (snapshot, errors) = Build(loaded);
                if (errors.Count > 0)
                {
                    // Keep the last good configuration; the change is looked at again only when the version moves on,
                    // so the error is logged once per bad change, not once per lifetime.
                    LogRejected(_logger, loaded.Version, string.Join(" ", errors));
                    CastellanTelemetry.ConfigurationReloads.Add(1, new KeyValuePair<string, object?>("result", "invalid"));
                    _current = current with { Version = loaded.Version, CheckAfter = NextCheck(_options.Value.ConfigurationCacheLifetime) };
                    return;
                }

                _current = snapshot;
                CastellanTelemetry.ConfigurationReloads.Add(1, new KeyValuePair<string, object?>("result", "loaded"));
                LogLoaded(_logger, loaded.Version, snapshot.Clients.Count, snapshot.Resources.ApiScopes.Count, snapshot.Resources.ApiResources.Count, snapshot.Resources.IdentityResources.Count);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                CastellanTelemetry.ConfigurationReloads.Add(1, new KeyValuePair<string, object?>("result", "failed"));
                LogCheckFailed(_logger, ex);
                _current = current with { CheckAfter = NextCheck(RetryAfterFailure < _options.Value.ConfigurationCacheLifetime ? RetryAfterFailure : _options.Value.ConfigurationCacheLifetime) };
            }
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private (Snapshot Snapshot, List<string> Errors) Build(ConfigurationSnapshot loaded)
    {
        var merged = _inCode.With(loaded);
        var errors = _rules.Check(merged);
        var clients = merged.Clients.GroupBy(c => c.ClientId, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var snapshot = new Snapshot(loaded.Version, clients, new Resources(merged.ApiScopes, merged.ApiResources, merged.IdentityResources),
            NextCheck(_options.Value.ConfigurationCacheLifetime));
        return (snapshot, errors);
    }

    private long NextCheck(TimeSpan after) => _time.GetTimestamp() + (long)(after.TotalSeconds * _time.TimestampFrequency);

    private sealed record Snapshot(long Version, FrozenDictionary<string, Client> Clients, Resources Resources, long CheckAfter);

    [LoggerMessage(30, LogLevel.Information, "Configuration store version {Version} in use: {Clients} clients, {ApiScopes} API scopes, {ApiResources} API resources, {IdentityResources} identity resources (with those configured in code).", EventName = "ConfigurationStoreLoaded")]
    private static partial void LogLoaded(ILogger logger, long version, int clients, int apiScopes, int apiResources, int identityResources);

    [LoggerMessage(31, LogLevel.Error, "Configuration store version {Version} is not used, the previous one stays: {Errors}", EventName = "ConfigurationStoreChangeRejected")]
    private static partial void LogRejected(ILogger logger, long version, string errors);

    [LoggerMessage(32, LogLevel.Warning, "The configuration store could not be read; the cached configuration stays in use and the store is asked again shortly.", EventName = "ConfigurationStoreUnavailable")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
