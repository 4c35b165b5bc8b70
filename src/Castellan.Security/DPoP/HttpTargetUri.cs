namespace Castellan.Security;

/// <summary>
/// The <c>htu</c> comparison of RFC 9449 §4.3 step 9: the two URIs are equal after syntax- and scheme-based
/// normalisation (RFC 3986 §6.2.2, §6.2.3), ignoring query and fragment.
/// </summary>
/// <remarks>
/// <see cref="Uri"/> already lowercases scheme and host, fills in the default port, removes dot segments, decodes
/// percent-encoded unreserved characters and turns an empty path into <c>/</c>. What is left here: the hex digits of
/// the remaining percent-encodings compare case-insensitively (§6.2.2.1), and the rest of the path case-sensitively.
/// Only http and https are HTTP target URIs, and a <c>htu</c> with user information is refused (RFC 9110 §4.2.4).
/// </remarks>
internal static class HttpTargetUri
{
    public static bool Matches(string htu, Uri requestUri)
    {
        if (!Uri.TryCreate(htu, UriKind.Absolute, out var proof) || !IsHttp(proof) || proof.UserInfo.Length != 0 || !IsHttp(requestUri))
        {
            return false;
        }

        return string.Equals(proof.Scheme, requestUri.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(proof.IdnHost, requestUri.IdnHost, StringComparison.OrdinalIgnoreCase)
            && proof.Port == requestUri.Port
            && PathEquals(proof.AbsolutePath, requestUri.AbsolutePath);
    }

    private static bool IsHttp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static bool PathEquals(string a, string b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i])
            {
                continue;
            }

            // Inside a percent-encoding (one of the two characters after a '%' both paths have), hex case is not significant.
            var inEscape = (i >= 1 && a[i - 1] == '%') || (i >= 2 && a[i - 2] == '%');
            if (!inEscape || !char.IsAsciiHexDigit(a[i]) || char.ToUpperInvariant(a[i]) != char.ToUpperInvariant(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}
