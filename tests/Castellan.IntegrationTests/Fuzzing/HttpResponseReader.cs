using System.Globalization;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>One HTTP/1.x answer as read off the socket (headers and body as wire text).</summary>
internal sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    public string? Header(string name)
        => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>
/// Splits the octets a server sent into HTTP/1.1 answers (RFC 9112 §6.3 message length: no body for 1xx, 204, 304 and
/// HEAD; chunked; Content-Length; else to the end of the connection). Interim 1xx answers are skipped.
/// </summary>
internal static class HttpResponseReader
{
    /// <param name="complete">Whether the server closed the connection, so a body without a length ends here.</param>
    /// <param name="garbage">Set when the octets are not HTTP/1.x answers at all.</param>
    public static List<RawResponse> Read(string wire, bool isHead, bool complete, out string? garbage)
    {
        garbage = null;
        var responses = new List<RawResponse>();
        var at = 0;
        while (at < wire.Length)
        {
            var end = wire.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (end < 0)
            {
                if (complete && !wire.AsSpan(at).StartsWith("HTTP/1."))
                {
                    garbage = WireText.Show(wire[at..], 80);
                }

                break;
            }

            var lines = wire[at..end].Split("\r\n");
            if (!TryStatus(lines[0], out var status))
            {
                garbage = WireText.Show(lines[0], 80);
                break;
            }

            var headers = new List<KeyValuePair<string, string>>();
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add(colon < 0 ? new(line, "") : new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            var response = new RawResponse(status, headers, "");
            var bodyStart = end + 4;
            if (status is >= 100 and < 200)
            {
                at = bodyStart;
                continue;
            }

            if (isHead || status is 204 or 304)
            {
                responses.Add(response);
                at = bodyStart;
                continue;
            }

            if (response.Header("Transfer-Encoding") is { } coding && coding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                if (!TryDechunk(wire, bodyStart, out var body, out var next))
                {
                    break;
                }

                responses.Add(response with { Body = body });
                at = next;
                continue;
            }

            if (response.Header("Content-Length") is { } lengthText)
            {
                if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                {
                    garbage = "Content-Length: " + WireText.Show(lengthText, 40);
                    break;
                }

                if (wire.Length - bodyStart < length)
                {
                    break;
                }

                responses.Add(response with { Body = wire.Substring(bodyStart, length) });
                at = bodyStart + length;
                continue;
            }

            if (!complete)
            {
                break;
            }

            responses.Add(response with { Body = wire[bodyStart..] });
            at = wire.Length;
        }

        return responses;
    }

    private static bool TryStatus(string line, out int status)
    {
        status = 0;
        return line.StartsWith("HTTP/1.", StringComparison.Ordinal) && line.Length >= 12 && line[8] == ' '
            && int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out status);
    }

    private static bool TryDechunk(string wire, int at, out string body, out int next)
    {
        var builder = new System.Text.StringBuilder();
        body = "";
        next = at;
        while (true)
        {
            var lineEnd = wire.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                return false;
            }

            var sizeText = wire[at..lineEnd].Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size))
            {
                return false;
            }

            at = lineEnd + 2;
            if (size == 0)
            {
                // Trailer section, then the empty line.
                var trailerEnd = wire.IndexOf("\r\n", at, StringComparison.Ordinal);
                while (trailerEnd > at)
                {
                    at = trailerEnd + 2;
                    trailerEnd = wire.IndexOf("\r\n", at, StringComparison.Ordinal);
                }

                if (trailerEnd < 0)
                {
                    return false;
                }

                body = builder.ToString();
                next = trailerEnd + 2;
                return true;
            }

            if (wire.Length < at + size + 2)
            {
                return false;
            }

            builder.Append(wire, at, size);
            at += size + 2;
        }
    }
}
