using System.Diagnostics.CodeAnalysis;

namespace Castellan.Security;

/// <summary>
/// Reads the access token from one <c>Authorization</c> header value: <c>Bearer</c> (RFC 6750 §2.1) or, when
/// accepted, <c>DPoP</c> (RFC 9449 §7.1). The API scheme and the token server's userinfo endpoint read it the same way.
/// </summary>
public static class AuthorizationHeader
{
    private const string BearerPrefix = "Bearer ";
    private const string DPoPPrefix = "DPoP ";

    /// <param name="value">One header value (the caller decides what several headers mean).</param>
    /// <param name="acceptDPoP">Whether the <c>DPoP</c> scheme is read; otherwise only <c>Bearer</c> is.</param>
    /// <param name="token">The token, trimmed; null when the value carries none.</param>
    /// <param name="dpop">Whether it came with the <c>DPoP</c> scheme.</param>
    /// <returns>Whether the value is one of the accepted schemes followed by a non-empty token. Schemes are
    /// case-insensitive (RFC 9110 §11.1).</returns>
    public static bool TryReadAccessToken(string? value, bool acceptDPoP, [NotNullWhen(true)] out string? token, out bool dpop)
    {
        token = null;
        dpop = false;
        int skip;
        if (value is null)
        {
            return false;
        }

        if (value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            skip = BearerPrefix.Length;
        }
        else if (acceptDPoP && value.StartsWith(DPoPPrefix, StringComparison.OrdinalIgnoreCase))
        {
            skip = DPoPPrefix.Length;
            dpop = true;
        }
        else
        {
            return false;
        }

        var trimmed = value.AsSpan(skip).Trim();
        if (trimmed.IsEmpty)
        {
            dpop = false;
            return false;
        }

        token = trimmed.ToString();
        return true;
    }
}
