using System.Globalization;

namespace Castellan.Clients;

/// <summary>
/// Whether a requested redirect URI is one the client registered. Compared as strings, ordinally, with no
/// normalisation (RFC 9700 §4.1.3: exact matching; OIDC Core §3.1.2.1: "Simple String Comparison"), so a
/// trailing slash, a case change, a query, a fragment, a userinfo part or an encoded character is another URI.
/// The one exception is RFC 8252 §7.3: for a registered loopback IP redirect (<c>http://127.0.0.1</c> or
/// <c>http://[::1]</c>), a native app may use any port, as it learns its port only when it opens it; everything
/// else must still match exactly. <c>localhost</c> gets no such allowance (RFC 8252 §8.3 advises against it: it
/// can resolve elsewhere).
/// </summary>
internal static class RedirectUris
{
    private static readonly string[] LoopbackPrefixes = ["http://127.0.0.1", "http://[::1]"];

    public static bool Matches(string requested, IEnumerable<string> registered)
    {
        foreach (var candidate in registered)
        {
            if (string.Equals(requested, candidate, StringComparison.Ordinal) || LoopbackMatches(requested, candidate))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <paramref name="requested"/> is <paramref name="registered"/> with a port given or changed: the same
    /// loopback prefix, then <c>:port</c> (1 to 65535, digits only), then exactly the registered remainder.
    /// </summary>
    private static bool LoopbackMatches(string requested, string registered)
    {
        foreach (var prefix in LoopbackPrefixes)
        {
            if (!registered.StartsWith(prefix, StringComparison.Ordinal) || !requested.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var registeredRest = StripPort(registered.AsSpan(prefix.Length), out var registeredPortOk);
            var requestedRest = StripPort(requested.AsSpan(prefix.Length), out var requestedPortOk);

            // The remainder is a path (or nothing): "http://127.0.0.1.evil.example/" or "http://127.0.0.1@evil" is
            // not a loopback URI with another port.
            return registeredPortOk && requestedPortOk
                   && (registeredRest.IsEmpty || registeredRest[0] == '/')
                   && registeredRest.SequenceEqual(requestedRest);
        }

        return false;
    }

    /// <summary>Removes a leading <c>:port</c>; <paramref name="valid"/> is false for a malformed one.</summary>
    private static ReadOnlySpan<char> StripPort(ReadOnlySpan<char> rest, out bool valid)
    {
        valid = true;
        if (rest.IsEmpty || rest[0] != ':')
        {
            return rest;
        }

        var end = 1;
        while (end < rest.Length && char.IsAsciiDigit(rest[end]))
        {
            end++;
        }

        valid = end is > 1 and <= 6
                && int.TryParse(rest[1..end], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535;
        return rest[end..];
    }
}
