using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Castellan.Sessions;

/// <summary>
/// Counts failed password attempts per account and per client address within a window, so guessing costs time:
/// once either count reaches its limit, attempts wait until the oldest failure leaves the window. In memory, per
/// node: a cluster multiplies the budget by its node count, which still bounds guessing.
/// </summary>
internal sealed class LoginThrottle(TimeProvider time, IOptions<CastellanOptions> options)
{
    /// <summary>Beyond this many tracked keys, stale ones are dropped before a new one is added, so an attacker cycling names cannot grow memory without bound.</summary>
    private const int MaxTrackedKeys = 100_000;

    private readonly UserSessionOptions _options = options.Value.Session;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    public TimeSpan? RetryAfter(string username, string address)
    {
        var now = time.GetUtcNow();
        var account = Wait(AccountKey(username), _options.MaxFailedLoginsPerAccount, now);
        var client = Wait(AddressKey(address), _options.MaxFailedLoginsPerAddress, now);
        return account is null ? client : client is null ? account : account > client ? account : client;
    }

    public void RecordFailure(string username, string address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count >= MaxTrackedKeys)
        {
            Prune(now);
        }

        Add(AccountKey(username), now);
        Add(AddressKey(address), now);
    }

    public void RecordSuccess(string username) => _failures.TryRemove(AccountKey(username), out _);

    private TimeSpan? Wait(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var failures))
        {
            return null;
        }

        lock (failures)
        {
            failures.Expire(now - _options.FailedLoginWindow);
            return failures.Times.Count >= limit ? failures.Times.Peek() + _options.FailedLoginWindow - now : null;
        }
    }

    private void Add(string key, DateTimeOffset now)
    {
        var failures = _failures.GetOrAdd(key, static _ => new Failures());
        lock (failures)
        {
            failures.Expire(now - _options.FailedLoginWindow);
            failures.Times.Enqueue(now);
            // Only the newest attempts within the limit matter; older ones cannot change the answer.
            while (failures.Times.Count > Math.Max(_options.MaxFailedLoginsPerAccount, _options.MaxFailedLoginsPerAddress))
            {
                failures.Times.Dequeue();
            }
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, failures) in _failures)
        {
            lock (failures)
            {
                failures.Expire(now - _options.FailedLoginWindow);
                if (failures.Times.Count == 0)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    private static string AccountKey(string username) => "u:" + username.ToUpperInvariant();

    private static string AddressKey(string address) => "a:" + address;

    private sealed class Failures
    {
        public Queue<DateTimeOffset> Times { get; } = new();

        public void Expire(DateTimeOffset cutoff)
        {
            while (Times.Count > 0 && Times.Peek() <= cutoff)
            {
                Times.Dequeue();
            }
        }
    }
}
