using System.Text;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// The fuzzer builds requests as "wire text": strings with one char per octet (U+0000..U+00FF), so invalid UTF-8,
/// bare CR or LF and NUL can be written anywhere, in names, values, headers and the request line alike.
/// </summary>
internal static class WireText
{
    private const string Hex = "0123456789ABCDEF";

    public static byte[] ToBytes(string wire)
    {
        foreach (var c in wire)
        {
            if (c > '\u00FF')
            {
                throw new ArgumentException($"Wire text holds octets only; U+{(int)c:X4} must be encoded first (Utf8).", nameof(wire));
            }
        }

        return Encoding.Latin1.GetBytes(wire);
    }

    public static string FromBytes(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The UTF-8 octets of <paramref name="text"/> as wire text.</summary>
    public static string Utf8(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Percent-encodes the UTF-8 of <paramref name="text"/> for a form or query; RFC 3986 unreserved characters stay as
    /// they are. A lone surrogate becomes U+FFFD, as any UTF-8 encoder writes it.
    /// </summary>
    public static string FormEncode(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
            }
        }

        return builder.ToString();
    }

    /// <summary>Every octet of <paramref name="text"/>'s UTF-8 percent-encoded, unreserved ones too: the same value, spelled oddly.</summary>
    public static string FormEncodeAll(string text, bool lowerCase)
    {
        var hex = lowerCase ? Hex.ToLowerInvariant() : Hex;
        var builder = new StringBuilder(text.Length * 3);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            builder.Append('%').Append(hex[b >> 4]).Append(hex[b & 0xF]);
        }

        return builder.ToString();
    }

    /// <summary>Visible one-line rendering for test output: control and non-ASCII octets as \xNN, long runs shortened.</summary>
    public static string Show(string wire, int max = 160)
    {
        var builder = new StringBuilder();
        var i = 0;
        while (i < wire.Length && builder.Length < max)
        {
            var run = 1;
            while (i + run < wire.Length && wire[i + run] == wire[i])
            {
                run++;
            }

            if (run > 8)
            {
                builder.Append(Visible(wire[i])).Append("{×").Append(run).Append('}');
                i += run;
                continue;
            }

            builder.Append(Visible(wire[i]));
            i++;
        }

        if (i < wire.Length)
        {
            builder.Append("…(").Append(wire.Length).Append(" octets)");
        }

        return builder.ToString();
    }

    private static string Visible(char c) => c switch
    {
        '\r' => "\\r",
        '\n' => "\\n",
        '\t' => "\\t",
        '\\' => "\\\\",
        < ' ' or > '~' => $"\\x{(int)c:X2}",
        _ => c.ToString(),
    };
}
