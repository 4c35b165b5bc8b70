using System.Threading.Channels;
using Castellan.Keys;
using Castellan.Tokens;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.EndSession;

/// <summary>One logout token to deliver to one client.</summary>
internal sealed record BackChannelLogoutNotification(string Issuer, string ClientId, string Uri, string SubjectId, string? SessionId);

/// <summary>
/// Delivers back-channel logout tokens (Back-Channel Logout 1.0 §2.5) in the background, so the user's logout never
/// waits on a client: each POST is bounded by a timeout and retried with growing delays, then given up and logged.
/// Redirects are not followed. Pending deliveries live in memory, and a restart loses those not yet delivered, unless
/// an <see cref="Stores.IBackChannelLogoutStore"/> is registered (database storage): then every delivery is written
/// there first, attempted by whichever node claims it, and rescheduled there after a failure, so it outlives the node
/// that accepted the logout.
/// </summary>
internal sealed partial class BackChannelLogoutSender(
    IHttpClientFactory httpClients,
    IdentityTokenCreator tokens,
    KeyRingProvider keys,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<BackChannelLogoutSender> logger,
    Stores.IBackChannelLogoutStore? store = null) : BackgroundService
{
    /// <summary>How often the durable queue is looked at when nothing woke the sender.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Longer than any attempt (its timeout), so a claim never runs out while its delivery is still under way.</summary>
    private TimeSpan ClaimDuration => _options.BackChannelLogoutTimeout + TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _wake = new(0, 1);

    public const string HttpClientName = "Castellan.BackChannelLogout";

    private readonly Channel<BackChannelLogoutNotification> _queue = Channel.CreateBounded<BackChannelLogoutNotification>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly UserSessionOptions _options = options.Value.Session;

    /// <summary>At most this many deliveries at once, so a logout of a session with many clients (or a burst of logouts) does not open unbounded connections.</summary>
    private readonly SemaphoreSlim _concurrency = new(16, 16);

    /// <summary>Queues the notifications of one logout; with a durable store they are stored before this returns.</summary>
    public async Task EnqueueAsync(IReadOnlyList<BackChannelLogoutNotification> notifications, CancellationToken cancellationToken)
    {
        if (notifications.Count == 0)
        {
            return;
        }

        if (store is null)
        {
            foreach (var notification in notifications)
            {
                if (!_queue.Writer.TryWrite(notification))
                {
                    LogDropped(logger, notification.ClientId);
                }
            }

            return;
        }

        var now = time.GetUtcNow();
        await store.AddAsync(notifications.Select(n => new Stores.PendingBackChannelLogout
        {
            Id = Guid.NewGuid().ToString("N"),
            Issuer = n.Issuer,
            ClientId = n.ClientId,
            Uri = n.Uri,
            SubjectId = n.SubjectId,
            SessionId = n.SessionId,
            NextAttempt = now,
            Created = now,
        }).ToArray(), cancellationToken).ConfigureAwait(false);
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is not null)
        {
            await RunDurableAsync(store, stoppingToken).ConfigureAwait(false);
            return;
        }

        await foreach (var notification in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            // Each delivery runs on its own, so one slow client does not hold back the others, up to the bound.
            await _concurrency.WaitAsync(stoppingToken).ConfigureAwait(false);
            _ = DeliverAndReleaseAsync(notification, stoppingToken);
        }
    }

    private async Task DeliverAndReleaseAsync(BackChannelLogoutNotification notification, CancellationToken stoppingToken)
    {
        try
        {
            await DeliverAsync(notification, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _concurrency.Release();
        }
    }

    private async Task DeliverAsync(BackChannelLogoutNotification notification, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; attempt <= _options.BackChannelLogoutAttempts; attempt++)
        {
            if (await TryDeliverAsync(notification, attempt, stoppingToken).ConfigureAwait(false) || stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (attempt < _options.BackChannelLogoutAttempts)
            {
                try
                {
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay *= 2;
            }
        }

        LogGivenUp(logger, notification.ClientId, _options.BackChannelLogoutAttempts);
    }

    /// <summary>One POST of a fresh logout token; whether the client took it.</summary>
    private async Task<bool> TryDeliverAsync(BackChannelLogoutNotification notification, int attempt, CancellationToken stoppingToken)
    {
        try
        {
            var ring = await keys.GetAsync(stoppingToken).ConfigureAwait(false);
            // A new token per attempt: each carries its own jti and a fresh iat, as receivers may reject replays.
            var token = tokens.CreateLogoutToken(notification.Issuer, notification.ClientId, notification.SubjectId, notification.SessionId, time.GetUtcNow(), ring);
            using var client = httpClients.CreateClient(HttpClientName);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(_options.BackChannelLogoutTimeout);
            using var content = new FormUrlEncodedContent([new KeyValuePair<string, string>("logout_token", token)]);
            using var response = await client.PostAsync(notification.Uri, content, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                LogDelivered(logger, notification.ClientId, attempt);
                return true;
            }

            LogAttemptFailed(logger, notification.ClientId, attempt, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex)
        {
            // Network errors, timeouts, a key ring that cannot be read now: logged, and tried again. Nothing may
            // escape a delivery that nobody awaits.
            LogAttemptFailed(logger, notification.ClientId, attempt, ex.GetType().Name);
        }

        return false;
    }

    /// <summary>
    /// The durable queue: claim what is due, attempt each once (at most 16 at a time), then remove it or put it back
    /// with a doubled delay; the attempts and the delay are counted in the store, so they carry over between nodes.
    /// </summary>
    private async Task RunDurableAsync(Stores.IBackChannelLogoutStore durable, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<Stores.PendingBackChannelLogout> due = [];
            try
            {
                var now = time.GetUtcNow();
                due = await durable.ClaimAsync(now, now + ClaimDuration, 16, stoppingToken).ConfigureAwait(false);
                await Task.WhenAll(due.Select(d => AttemptAsync(durable, d, stoppingToken))).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store is down: the deliveries stay where they are, and are claimed again later.
                LogStoreFailed(logger, ex);
            }

            if (due.Count == 16)
            {
                continue;
            }

            try
            {
                await _wake.WaitAsync(PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task AttemptAsync(Stores.IBackChannelLogoutStore durable, Stores.PendingBackChannelLogout pending, CancellationToken stoppingToken)
    {
        var attempt = pending.Attempts + 1;
        var notification = new BackChannelLogoutNotification(pending.Issuer, pending.ClientId, pending.Uri, pending.SubjectId, pending.SessionId);
        if (await TryDeliverAsync(notification, attempt, stoppingToken).ConfigureAwait(false))
        {
            await durable.RemoveAsync(pending.Id, stoppingToken).ConfigureAwait(false);
            return;
        }

        if (attempt >= _options.BackChannelLogoutAttempts)
        {
            LogGivenUp(logger, pending.ClientId, attempt);
            await durable.RemoveAsync(pending.Id, stoppingToken).ConfigureAwait(false);
            return;
        }

        await durable.RescheduleAsync(pending.Id, attempt, time.GetUtcNow() + TimeSpan.FromSeconds(Math.Pow(2, attempt - 1)), stoppingToken).ConfigureAwait(false);
    }

    [LoggerMessage(3214, LogLevel.Warning, "The back-channel logout queue could not be read or updated; its deliveries are tried again later.", EventName = "BackChannelLogoutStoreFailed")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(3210, LogLevel.Debug, "Back-channel logout delivered to client {ClientId} (attempt {Attempt}).", EventName = "BackChannelLogoutDelivered")]
    private static partial void LogDelivered(ILogger logger, string clientId, int attempt);

    [LoggerMessage(3211, LogLevel.Information, "Back-channel logout to client {ClientId} failed (attempt {Attempt}): {Reason}.", EventName = "BackChannelLogoutAttemptFailed")]
    private static partial void LogAttemptFailed(ILogger logger, string clientId, int attempt, string reason);

    [LoggerMessage(3212, LogLevel.Warning, "Back-channel logout to client {ClientId} given up after {Attempts} attempts.", EventName = "BackChannelLogoutGivenUp")]
    private static partial void LogGivenUp(ILogger logger, string clientId, int attempts);

    [LoggerMessage(3213, LogLevel.Warning, "Back-channel logout queue is full; the notification for client {ClientId} was dropped.", EventName = "BackChannelLogoutDropped")]
    private static partial void LogDropped(ILogger logger, string clientId);
}
