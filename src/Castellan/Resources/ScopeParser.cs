namespace Castellan.Resources;

/// <summary>Parses the <c>scope</c> parameter (RFC 6749 §3.3).</summary>
internal static class ScopeParser
{
    /// <summary>
    /// Splits a space-delimited scope string into distinct scope tokens, in request order. Returns false when
    /// a token has a character outside <c>%x21 / %x23-5B / %x5D-7E</c> or the delimiters are not single spaces.
    /// </summary>
    public static bool TryParse(string value, List<string> scopes)
    {
        var span = value.AsSpan();
        while (!span.IsEmpty)
        {
            var space = span.IndexOf(' ');
            var token = space < 0 ? span : span[..space];
            if (token.IsEmpty || !IsValidToken(token))
            {
                return false;
            }

            var scope = token.ToString();
            if (!scopes.Contains(scope))
            {
                scopes.Add(scope);
            }

            if (space < 0)
            {
                break;
            }

            span = span[(space + 1)..];
            if (span.IsEmpty)
            {
                return false;
            }
        }

        return scopes.Count > 0;
    }

    private static bool IsValidToken(ReadOnlySpan<char> token)
    {
        foreach (var c in token)
        {
            if (c < 0x21 || c > 0x7E || c == '"' || c == '\\')
            {
                return false;
            }
        }

        return true;
    }
}
