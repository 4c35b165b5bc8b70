using System.Globalization;
using System.Text;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Malformed HTTP/1.1 that only a raw socket can send: bad chunked framing (non-hex and overflowing sizes, missing
/// CRLF, extensions, trailers), truncated and contradictory lengths, pipelines, oversized request lines and headers,
/// bare LF and CR, obsolete line folding, and bytes that are not HTTP at all.
/// </summary>
internal static class FramingMutations
{
    public static string Apply(FuzzRandom random, RequestDraft draft, Func<FuzzRandom, RequestDraft> another) => random.Next(12) switch
    {
        < 3 => Chunked(random, draft),
        < 5 => Length(random, draft),
        5 => Smuggle(random, draft),
        6 => Pipeline(random, draft, another),
        7 => Oversized(random, draft),
        8 => LineEndings(random, draft),
        9 => Folding(random, draft),
        10 => TransferEncoding(random, draft),
        _ => NotHttp(random, draft),
    };

    private static readonly string[] ChunkKinds =
    [
        "chunk size not hex", "chunk size overflowing or huge", "chunk extensions", "chunk size line without CRLF",
        "chunk data without CRLF", "no last chunk", "trailer fields after the last chunk", "one octet per chunk",
        "last chunk without the final CRLF", "chunk declares more than it sends", "chunk declares less than it sends",
        "well-formed chunked body",
    ];

    private static string Chunked(FuzzRandom random, RequestDraft draft)
    {
        var body = draft.Body;
        var head = WithHeader(draft, "Transfer-Encoding", "chunked");
        var kind = random.Next(ChunkKinds.Length);
        var description = "chunked: " + ChunkKinds[kind];
        var size = (int length) => length.ToString("x", CultureInfo.InvariantCulture);
        switch (kind)
        {
            case 7:
                return Finish(draft, head + string.Concat(body.Select(c => "1\r\n" + c + "\r\n")) + "0\r\n\r\n", description);
            case 9:
                // The server waits for the rest of the chunk until the input ends.
                draft.HalfClose = true;
                return Finish(draft, head + size(body.Length + random.Between(1, 100_000)) + "\r\n" + body, description);
            case 10:
                return Finish(draft, head + size(Math.Max(0, body.Length - random.Between(1, 10))) + "\r\n" + body + "\r\n0\r\n\r\n", description);
        }

        var wire = new StringBuilder(head);
        var chunks = Split(random, body);
        for (var i = 0; i < chunks.Count; i++)
        {
            // The first chunk is always broken, any other one sometimes.
            var broken = i == 0 || random.OneIn(chunks.Count);
            var sizeLine = size(chunks[i].Length);
            wire.Append(kind switch
            {
                0 when broken => random.Pick(["zz", "g", "0x" + sizeLine, "-" + sizeLine, "+" + sizeLine, " " + sizeLine, sizeLine + " ", "", sizeLine + ".0", "\u00FF", sizeLine + "\u0000"]),

                // Past int (80000000) and long (8000000000000000), and the padded but small.
                1 when broken => random.Pick(["ffffffffffffffffff", "10000000000000000", "8000000000000000", "7fffffffffffffff", "100000000", "ffffffff", "80000000",
                    "0000000000000000000000000000" + sizeLine]),
                2 => sizeLine + random.Pick([";ext", ";name=value", ";name=\"quoted;value\"", "; spaced = ext ", ";" + new string('e', random.Pick<int>([100, 5_000, 40_000])), ";\u0000", ";\u00FF"]),
                _ => sizeLine,
            });
            wire.Append(kind == 3 && broken ? random.Pick(["\n", "\r", ""]) : "\r\n").Append(chunks[i]);
            wire.Append(kind == 4 && broken ? random.Pick(["", "\n", "\r", "xx\r\n"]) : "\r\n");
        }

        switch (kind)
        {
            case 5 or 8:
                // Without the last chunk (or its final CRLF) the server waits for the rest until the input ends.
                draft.HalfClose = true;
                return Finish(draft, wire.Append(kind == 8 ? "0\r\n" : "").ToString(), description);
            case 6:
                wire.Append("0\r\n").Append(random.Pick(["X-Trailer: a\r\n", "Content-Length: 5\r\n", "Authorization: Basic Og==\r\n",
                    "X-T: " + new string('t', 40_000) + "\r\n", "bad trailer\r\n"]));
                return Finish(draft, wire.Append("\r\n").ToString(), description);
            default:
                return Finish(draft, wire.Append("0\r\n\r\n").ToString(), description);
        }
    }

    private static string Length(FuzzRandom random, RequestDraft draft)
    {
        var body = draft.Body;
        var (value, description) = random.Next(10) switch
        {
            0 => ((body.Length + random.Pick<int>([1, 10, 1_000, 60_000])).ToString(CultureInfo.InvariantCulture), "larger than the body, then end of input"),
            1 => (Math.Max(0, body.Length - random.Between(1, body.Length + 1)).ToString(CultureInfo.InvariantCulture), "smaller than the body"),
            2 => (random.Pick(["-1", "-0", "abc", "1e3", "0x10", "+" + body.Length, " " + body.Length + " ", body.Length + "\u0000", WireText.Utf8("\u0661\u0662")]), "not a number"),
            3 => (random.Pick(["99999999999999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616", "2147483648"]), "huge"),
            4 => (body.Length + ", " + body.Length, "a list of the same length"),
            5 => (body.Length + ", " + (body.Length + 1), "a list of two lengths"),
            6 => ("", "empty"),
            7 => ("0" + body.Length, "with a leading zero"),
            8 => (new string('0', 100) + body.Length, "with a hundred leading zeros"),
            _ => (body.Length.ToString(CultureInfo.InvariantCulture), "sent twice, the second different"),
        };

        var head = WithHeader(draft, "Content-Length", value);
        if (description.StartsWith("sent twice", StringComparison.Ordinal))
        {
            head = head.Insert(head.Length - 2, "Content-Length: " + (body.Length + 3).ToString(CultureInfo.InvariantCulture) + "\r\n");
        }

        // A length larger than the body leaves the server waiting for octets that never come: end the input, by a
        // clean close or, every other time, by a reset (a client that crashed mid-body).
        if (description.StartsWith("larger", StringComparison.Ordinal))
        {
            draft.Reset = random.OneIn(2);
            draft.HalfClose = !draft.Reset;
            description = draft.Reset ? "larger than the body, then a reset" : description;
        }
        return Finish(draft, head + body, "Content-Length " + description);
    }

    private static string Smuggle(FuzzRandom random, RequestDraft draft)
    {
        var body = draft.Body;
        var inner = "GET " + draft.Path + " HTTP/1.1\r\nHost: evil.example\r\n\r\n";
        var chunked = body.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n" + body + "\r\n0\r\n\r\n" + inner;
        var head = WithHeader(draft, "Transfer-Encoding", random.Pick(["chunked", " chunked", "chunked ", "Chunked", "identity, chunked"]));
        var length = random.Pick<int>([0, 4, chunked.Length - inner.Length, chunked.Length]);
        head = head.Insert(head.Length - 2, "Content-Length: " + length.ToString(CultureInfo.InvariantCulture) + "\r\n");
        return Finish(draft, head + chunked, $"both Content-Length {length} and Transfer-Encoding, a second request behind the body");
    }

    private static string Pipeline(FuzzRandom random, RequestDraft draft, Func<FuzzRandom, RequestDraft> another)
    {
        var count = random.Between(2, 6);
        var wire = new StringBuilder();
        var parts = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var request = i == 0 ? draft : another(random);
            if (request.Method == "HEAD" || request.WireOverride is not null)
            {
                request = RequestDraft.For(draft.Endpoint, draft.Baseline, draft.Headers[draft.IndexOfHeader("Host")].Value, draft.Credentials);
            }

            if (i < count - 1)
            {
                request.RemoveHeader("Connection");
            }

            if (request != draft)
            {
                draft.Secrets.AddRange(request.Secrets);
            }

            wire.Append(request.ToWire());
            parts.Add(request.Method + " " + WireText.Show(request.Path, 40));
        }

        draft.ExpectedResponses = count;
        return Finish(draft, wire.ToString(), $"{count} pipelined requests ({string.Join(", ", parts)})");
    }

    private static string Oversized(FuzzRandom random, RequestDraft draft)
    {
        switch (random.Next(4))
        {
            case 0:
                var path = draft.Path + "?" + new string('a', random.Pick<int>([8_200, 20_000, 100_000]));
                return Finish(draft, draft.Head(true).Replace(draft.RequestTarget, path, StringComparison.Ordinal) + draft.Body, $"request line of {path.Length} characters");
            case 1:
                var header = "X-Huge: " + new string('h', random.Pick<int>([33_000, 100_000, 1_000_000])) + "\r\n";
                return Finish(draft, Insert(draft.Head(true), header) + draft.Body, $"one header of {header.Length} octets");
            case 2:
                var count = random.Pick<int>([101, 1_000, 10_000]);
                var many = string.Concat(Enumerable.Range(0, count).Select(i => "X-" + i.ToString(CultureInfo.InvariantCulture) + ": v\r\n"));
                return Finish(draft, Insert(draft.Head(true), many) + draft.Body, $"{count} headers");
            default:
                var body = new string('a', random.Pick<int>([70_000, 1_000_000]));
                draft.RawBody = body;
                return Finish(draft, draft.Head(true) + body, $"body of {body.Length} octets with its Content-Length");
        }
    }

    private static string LineEndings(FuzzRandom random, RequestDraft draft)
    {
        var head = draft.Head(true);
        var (ending, description) = random.Next(4) switch
        {
            0 => ("\n", "bare LF"),
            1 => ("\r", "bare CR"),
            2 => ("\r\r\n", "CR CR LF"),
            _ => ("\n\r", "LF CR"),
        };
        if (random.OneIn(2))
        {
            var lines = head.Split("\r\n");
            var which = random.Next(lines.Length - 1);
            head = string.Join("\r\n", lines[..(which + 1)]) + ending + string.Join("\r\n", lines[(which + 1)..]);
            description += " ending one line";
        }
        else
        {
            head = head.Replace("\r\n", ending, StringComparison.Ordinal);
            description += " ending every line";
        }

        // A bare CR ends no line: the server waits for the LF until the input ends.
        draft.HalfClose = ending == "\r";
        return Finish(draft, head + draft.Body, description);
    }

    private static string Folding(FuzzRandom random, RequestDraft draft)
    {
        var head = draft.Head(true);
        var lines = head.Split("\r\n").ToList();
        var which = random.Between(1, lines.Count - 3);
        var line = lines[which];
        var split = line.IndexOf(':', StringComparison.Ordinal) + 2 + random.Next(Math.Max(1, line.Length - line.IndexOf(':', StringComparison.Ordinal) - 2));
        lines[which] = line[..Math.Min(split, line.Length)] + "\r\n" + random.Pick([" ", "\t", "  "]) + line[Math.Min(split, line.Length)..];
        var variants = random.Next(3);
        if (variants == 1)
        {
            lines.Insert(1, " X-Leading: whitespace before the first header");
        }
        else if (variants == 2)
        {
            lines[which] = lines[which].Replace(":", " :", StringComparison.Ordinal);
        }

        return Finish(draft, string.Join("\r\n", lines) + draft.Body, variants switch
        {
            1 => "obsolete line folding and a header starting with whitespace",
            2 => "obsolete line folding and whitespace before a colon",
            _ => "obsolete line folding",
        });
    }

    private static string TransferEncoding(FuzzRandom random, RequestDraft draft)
    {
        var body = draft.Body;
        var coding = random.Pick(["chunked, chunked", "gzip, chunked", "chunked, gzip", "identity", "xchunked", "chunked\t", "\u0000chunked", "CHUNKED", "chunked;q=1", ",chunked", "deflate"]);
        var chunked = body.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n" + body + "\r\n0\r\n\r\n";
        var head = WithHeader(draft, "Transfer-Encoding", coding);
        if (random.OneIn(3))
        {
            head = head.Insert(head.Length - 2, "Transfer-Encoding: chunked\r\n");
            coding += "' and 'chunked";
        }

        return Finish(draft, head + chunked, $"Transfer-Encoding '{WireText.Show(coding)}'");
    }

    private static string NotHttp(FuzzRandom random, RequestDraft draft)
    {
        var head = draft.Head(true);
        var (wire, description, incomplete) = random.Next(9) switch
        {
            0 => (random.Octets(random.Size(8_000) + 1), "random octets", true),
            1 => ("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00FC\u0003\u0003" + random.Octets(64), "a TLS ClientHello", true),
            2 => ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + random.Octets(32), "the HTTP/2 connection preface", false),
            3 => ("\r\n\r\n\r\n" + head + draft.Body, "empty lines before the request", false),
            4 => ("", "nothing, then end of input", true),
            5 => (head[..head.IndexOf("\r\n", StringComparison.Ordinal)], "a request line alone, then end of input", true),
            6 => (head[..random.Between(1, head.Length - 1)], "the head cut short, then end of input", true),
            7 => (draft.Method + " " + draft.Path + "\r\n", "an HTTP/0.9 request line", false),
            _ => (head.Replace(" ", random.Pick(["\t", "  ", "\u0000", "\u000B"]), StringComparison.Ordinal) + draft.Body, "request line and headers with odd separators", false),
        };

        // Kestrel speaks HTTP/2 with prior knowledge on a cleartext endpoint: its answer to the preface is HTTP/2 frames.
        draft.AnswerMayBeHttp2 = description.Contains("HTTP/2", StringComparison.Ordinal);
        draft.HalfClose = incomplete;
        return Finish(draft, wire, description);
    }

    private static string Finish(RequestDraft draft, string wire, string description)
    {
        draft.WireOverride = wire;
        return "framing: " + description;
    }

    /// <summary>The head without Content-Length, with <paramref name="name"/> set (before the empty line).</summary>
    private static string WithHeader(RequestDraft draft, string name, string value)
    {
        draft.RemoveHeader("Content-Length");
        draft.RemoveHeader("Transfer-Encoding");
        var head = draft.Head(includeLength: false);
        return head.Insert(head.Length - 2, name + ": " + value + "\r\n");
    }

    private static string Insert(string head, string headers) => head.Insert(head.Length - 2, headers);

    private static List<string> Split(FuzzRandom random, string body)
    {
        var chunks = new List<string>();
        var at = 0;
        while (at < body.Length)
        {
            var size = Math.Min(body.Length - at, random.Between(1, Math.Max(1, body.Length / 2)));
            chunks.Add(body.Substring(at, size));
            at += size;
        }

        if (chunks.Count == 0)
        {
            chunks.Add("");
        }

        return chunks;
    }
}
