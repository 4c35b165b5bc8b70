using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// Each URI is fetched by one caller at a time, and at most once per <see cref="ClientJwksOptions.MinimumRefreshInterval"/>
/// whatever the reason (expiry, refresh, retry after a failure): many assertions at once, or a stream of unknown key
/// ids, never become a stream of requests to the client's server. A key set that cannot be fetched again is used
/// until it is twice <see cref="ClientJwksOptions.CacheDuration"/> old, so a short outage at the client does not lock
/// it out, and a long one does not keep keys alive that the client may have withdrawn.
/// </summary>
internal sealed partial class ClientJwksFetcher(
    IHttpClientFactory httpClients,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<ClientJwksFetcher> logger) : IClientJwksFetcher
{
    public const string HttpClientName = "Castellan.ClientJwks";

    /// <summary>A client needs a few keys (the current one, the next); hundreds are a mistake, or an attack on our memory.</summary>
    internal const int MaxKeys = 100;

    /// <summary>Beyond it the least recently used URI is forgotten, so the cache cannot grow with the number of URIs.</summary>
    internal const int MaxCachedUris = 1_000;

    /// <summary>RFC 7517 §8.5.1 registers the first; many servers answer with the second.</summary>
    private const string AcceptedMediaTypes = "application/jwk-set+json, application/json";

    private static readonly IReadOnlyList<JsonWebKey> NoKeys = [];

    private readonly ClientJwksOptions _options = options.Value.ClientJwks;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private readonly Lock _growth = new();

    /// <summary>Orders uses for eviction; a counter, not the clock, so uses in the same tick are still ordered.</summary>
    private long _uses;

    public ValueTask<IReadOnlyList<JsonWebKey>> GetKeysAsync(string jwksUri, bool refresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jwksUri);
        cancellationToken.ThrowIfCancellationRequested();
        var entry = GetEntry(jwksUri);
        var now = time.GetUtcNow();
        TaskCompletionSource<IReadOnlyList<JsonWebKey>>? started = null;
        Task<IReadOnlyList<JsonWebKey>> fetch;
        lock (entry.Gate)
        {
            Volatile.Write(ref entry.LastUse, Interlocked.Increment(ref _uses));
            if (entry.Fetch is null)
            {
                if (!IsFetchDue(entry, refresh, now))
                {
                    return new(UsableKeys(entry, now));
                }

                started = new(TaskCreationOptions.RunContinuationsAsynchronously);
                entry.Fetch = started.Task;
                entry.LastAttempt = now;
            }

            fetch = entry.Fetch;
        }

        if (started is not null)
        {
            _ = FetchAndStoreAsync(jwksUri, entry, now, started);
        }

        // The fetch is shared, so a caller's token ends only that caller's wait, never the fetch the others await.
        return new(fetch.WaitAsync(cancellationToken));
    }

    private bool IsFetchDue(Entry entry, bool refresh, DateTimeOffset now)
        => (entry.LastAttempt is not { } last || now - last >= _options.MinimumRefreshInterval)
           && (refresh || entry.Keys is null || now - entry.KeysFetched >= _options.CacheDuration);

    private IReadOnlyList<JsonWebKey> UsableKeys(Entry entry, DateTimeOffset now)
        => entry.Keys is { } keys && now - entry.KeysFetched < _options.CacheDuration * 2 ? keys : NoKeys;

    private async Task FetchAndStoreAsync(string jwksUri, Entry entry, DateTimeOffset started, TaskCompletionSource<IReadOnlyList<JsonWebKey>> completion)
    {
        var fetched = new Fetched(null, 0, "the fetch failed unexpectedly");
        var result = NoKeys;
        DateTimeOffset keysFetched;
        try
        {
            fetched = await FetchAsync(jwksUri).ConfigureAwait(false);
        }
        finally
        {
            // Whatever happened, the waiting callers get an answer and the URI can be fetched again.
            lock (entry.Gate)
            {
                if (fetched.Keys is not null)
                {
                    entry.Keys = fetched.Keys;
                    entry.KeysFetched = started;
                }

                entry.Fetch = null;
                keysFetched = entry.KeysFetched;
                result = UsableKeys(entry, time.GetUtcNow());
            }

            completion.TrySetResult(result);
        }

        if (fetched.Keys is not null)
        {
            LogFetched(logger, jwksUri, fetched.Keys.Count, fetched.Dropped);
        }
        else if (result.Count > 0)
        {
            LogFetchFailedUsingCached(logger, jwksUri, fetched.Failure, result.Count, time.GetUtcNow() - keysFetched, _options.CacheDuration * 2);
        }
        else
        {
            LogFetchFailed(logger, jwksUri, fetched.Failure, _options.MinimumRefreshInterval);
        }
    }

    /// <param name="Keys">Null when the fetch failed.</param>
    private readonly record struct Fetched(IReadOnlyList<JsonWebKey>? Keys, int Dropped, string? Failure);

    /// <summary>The usable keys at <paramref name="jwksUri"/>, or why there are none; never throws.</summary>
    private async Task<Fetched> FetchAsync(string jwksUri)
    {
        if (!Uri.TryCreate(jwksUri, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && !_options.RequireHttps)))
        {
            return new(null, 0, _options.RequireHttps ? "not an absolute https URL (ClientJwks.RequireHttps)" : "not an absolute http or https URL");
        }

        // On the TimeProvider's clock, so the timeout is the configured one in tests that move time as well.
        using var timeout = new CancellationTokenSource(_options.Timeout, time);
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Accept", AcceptedMediaTypes);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                // A redirect could lead from https to http, or to a host the client does not control.
                return new(null, 0, $"redirect ({StatusText(response.StatusCode)}), which is not followed");
            }

            if (!response.IsSuccessStatusCode)
            {
                return new(null, 0, $"status {StatusText(response.StatusCode)}");
            }

            // The length header only lets an honest large answer fail early; the read enforces the limit whatever it says.
            var json = response.Content.Headers.ContentLength > _options.MaxResponseSize
                ? null
                : await ReadAtMostAsync(response.Content, _options.MaxResponseSize, timeout.Token).ConfigureAwait(false);
            if (json is null)
            {
                return new(null, 0, $"the key set is larger than {_options.MaxResponseSize} bytes (ClientJwks.MaxResponseSize)");
            }

            var set = new JsonWebKeySet(json);
            var keys = VerificationKeys(set.Keys);
            return new(keys, set.Keys.Count - keys.Length, null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new(null, 0, $"no answer within {_options.Timeout} (ClientJwks.Timeout)");
        }
        catch (Exception ex)
        {
            // Network errors and malformed JSON alike: the caller gets no keys, the log gets the reason.
            return new(null, 0, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static string StatusText(HttpStatusCode status) => ((int)status).ToString(CultureInfo.InvariantCulture);

    /// <summary>The body as text, or null when it is longer than <paramref name="limit"/> bytes, whatever Content-Length said.</summary>
    private static async Task<string?> ReadAtMostAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        // One byte past the limit tells a body of exactly the limit from a longer one.
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var length = 0;
                int read;
                while (length <= limit && (read = await stream.ReadAsync(buffer.AsMemory(length, limit + 1 - length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }

                return length > limit ? null : Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first <see cref="MaxKeys"/> keys that pass <see cref="ClientKeys.IsVerificationKey"/>.</summary>
    private static JsonWebKey[] VerificationKeys(IList<JsonWebKey> published)
    {
        var keys = new List<JsonWebKey>(Math.Min(published.Count, MaxKeys));
        foreach (var key in published)
        {
            if (keys.Count == MaxKeys)
            {
                break;
            }

            if (ClientKeys.IsVerificationKey(key))
            {
                keys.Add(key);
            }
        }

        return [.. keys];
    }

    private Entry GetEntry(string jwksUri)
    {
        if (_entries.TryGetValue(jwksUri, out var entry))
        {
            return entry;
        }

        lock (_growth)
        {
            if (_entries.TryGetValue(jwksUri, out entry))
            {
                return entry;
            }

            if (_entries.Count >= MaxCachedUris)
            {
                KeyValuePair<string, Entry>? leastRecent = null;
                foreach (var candidate in _entries)
                {
                    if (leastRecent is not { } current || Volatile.Read(ref candidate.Value.LastUse) < Volatile.Read(ref current.Value.LastUse))
                    {
                        leastRecent = candidate;
                    }
                }

                // A fetch under way for it still answers its callers; only the next use starts afresh.
                _entries.TryRemove(leastRecent!.Value);
            }

            entry = new Entry();
            _entries[jwksUri] = entry;
            return entry;
        }
    }

    /// <summary>The state of one URI; all but <see cref="LastUse"/> are read and written under <see cref="Gate"/>.</summary>
    private sealed class Entry
    {
        public readonly Lock Gate = new();

        /// <summary>Null until a fetch succeeds; a later failure leaves them as they were.</summary>
        public IReadOnlyList<JsonWebKey>? Keys;

        /// <summary>When the fetch that returned <see cref="Keys"/> started.</summary>
        public DateTimeOffset KeysFetched;

        public DateTimeOffset? LastAttempt;

        public Task<IReadOnlyList<JsonWebKey>>? Fetch;

        public long LastUse;
    }

    [LoggerMessage(2100, LogLevel.Debug, "Fetched the key set at {JwksUri}: {Kept} keys kept, {Dropped} dropped (not a public signature key of type RSA or EC, or beyond the first 100).", EventName = "ClientJwksFetched")]
    private static partial void LogFetched(ILogger logger, string jwksUri, int kept, int dropped);

    [LoggerMessage(2101, LogLevel.Warning, "Could not fetch the key set at {JwksUri}: {Reason}. The {Count} keys fetched {Age} ago are used until they are {MaxAge} old.", EventName = "ClientJwksFetchFailedUsingCached")]
    private static partial void LogFetchFailedUsingCached(ILogger logger, string jwksUri, string? reason, int count, TimeSpan age, TimeSpan maxAge);

    [LoggerMessage(2102, LogLevel.Warning, "Could not fetch the key set at {JwksUri}: {Reason}. No keys from it are usable, so assertions signed with them fail until a fetch succeeds (at most one per {Interval}).", EventName = "ClientJwksFetchFailed")]
    private static partial void LogFetchFailed(ILogger logger, string jwksUri, string? reason, TimeSpan interval);
}
