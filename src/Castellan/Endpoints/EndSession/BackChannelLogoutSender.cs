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
/// Redirects are not followed. Pending deliveries live in memory; a restart loses those not yet delivered (a durable
/// queue comes with database storage).
/// </summary>
internal sealed partial class BackChannelLogoutSender(
    IHttpClientFactory httpClients,
    IdentityTokenCreator tokens,
    KeyRingProvider keys,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<BackChannelLogoutSender> logger) : BackgroundService
{
    public const string HttpClientName = "Castellan.BackChannelLogout";

    private readonly Channel<BackChannelLogoutNotification> _queue = Channel.CreateBounded<BackChannelLogoutNotification>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly UserSessionOptions _options = options.Value.Session;

    /// <summary>At most this many deliveries at once, so a logout of a session with many clients (or a burst of logouts) does not open unbounded connections.</summary>
    private readonly SemaphoreSlim _concurrency = new(16, 16);

    public void Enqueue(BackChannelLogoutNotification notification)
    {
        if (!_queue.Writer.TryWrite(notification))
        {
            LogDropped(logger, notification.ClientId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
                    return;
                }

                LogAttemptFailed(logger, notification.ClientId, attempt, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Network errors, timeouts, a key ring that cannot be read now: logged, and tried again. Nothing may
                // escape a delivery that nobody awaits.
                LogAttemptFailed(logger, notification.ClientId, attempt, ex.GetType().Name);
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

    [LoggerMessage(3210, LogLevel.Debug, "Back-channel logout delivered to client {ClientId} (attempt {Attempt}).", EventName = "BackChannelLogoutDelivered")]
    private static partial void LogDelivered(ILogger logger, string clientId, int attempt);

    [LoggerMessage(3211, LogLevel.Information, "Back-channel logout to client {ClientId} failed (attempt {Attempt}): {Reason}.", EventName = "BackChannelLogoutAttemptFailed")]
    private static partial void LogAttemptFailed(ILogger logger, string clientId, int attempt, string reason);

    [LoggerMessage(3212, LogLevel.Warning, "Back-channel logout to client {ClientId} given up after {Attempts} attempts.", EventName = "BackChannelLogoutGivenUp")]
    private static partial void LogGivenUp(ILogger logger, string clientId, int attempts);

    [LoggerMessage(3213, LogLevel.Warning, "Back-channel logout queue is full; the notification for client {ClientId} was dropped.", EventName = "BackChannelLogoutDropped")]
    private static partial void LogDropped(ILogger logger, string clientId);
}
