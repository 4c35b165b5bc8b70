namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>Breaks the request line of a valid request: the method, the request target or the HTTP version.</summary>
internal static class RequestLineMutations
{
    /// <summary>Registered methods other than the endpoint's own; a protocol endpoint must refuse them (OPTIONS aside, for CORS).</summary>
    private static readonly string[] Standard = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "CONNECT"];

    public static string Apply(FuzzRandom random, RequestDraft draft) => random.Next(10) switch
    {
        < 5 => Method(random, draft),
        < 9 => Target(random, draft),
        _ => Version(random, draft),
    };

    private static string Method(FuzzRandom random, RequestDraft draft)
    {
        var method = random.OneIn(2)
            ? random.Pick(Standard)
            : random.Pick(["post", "Post", "get", "FOO", "M-SEARCH", "PROPFIND", "BREW", "QUERY", "GET\u0000", "P\u00D6ST", "", "POST POST",
                "PO ST", "POST\t", "*", "-", new string('X', random.Pick<int>([100, 9_000, 70_000]))]);
        draft.Method = method;
        var allowed = draft.Baseline.Methods ?? (draft.Baseline.HasForm ? ["POST"] : ["GET", "HEAD"]);
        draft.MustNotSucceed |= Standard.Contains(method) && !allowed.Contains(method) && method is not ("OPTIONS" or "CONNECT");
        return $"method '{WireText.Show(method, 40)}'";
    }

    private static string Target(FuzzRandom random, RequestDraft draft)
    {
        var path = draft.Path;
        var target = random.Next(22) switch
        {
            0 => path.ToUpperInvariant(),
            1 => path + "/",
            2 => "/" + path.Replace("/", "//", StringComparison.Ordinal),
            3 => path.Insert(path.LastIndexOf('/'), "/."),
            4 => "/fuzz/.." + path,
            5 => path.Replace("/", "%2F", StringComparison.Ordinal),
            6 => path + "%00",
            7 => path + ";jsessionid=x",
            8 => path + "#fragment",
            9 => "http://evil.example" + path,
            10 => "http://" + draft.Headers[draft.IndexOfHeader("Host")].Value + path,
            11 => "*",
            12 => path.TrimStart('/'),
            13 => path + "/" + new string('a', random.Pick<int>([1_000, 8_200, 70_000])),
            14 => path + "?" + new string('q', random.Pick<int>([1_000, 8_200, 70_000])),
            15 => "/%FF%FE" + path,
            16 => path + "\u00C3\u00B6",
            17 => path + "?" + HostileText.PercentTriplets(random, random.Between(1, 50)),
            18 => path + "?" + random.Pick(["%%%", "&&&", "===", "a=1&a=2&A=3", "grant_type=client_credentials", "token=x&token=y"]),
            19 => path.Replace("/", "\\", StringComparison.Ordinal),
            20 => path + "/..%2F..%2Fetc%2Fpasswd",
            _ => path + "?" + random.Octets(random.Between(1, 40)),
        };

        if (draft.Query.Count > 0 && target.Contains('?', StringComparison.Ordinal))
        {
            // The query above replaces the baseline's own.
            draft.Query.Clear();
        }

        draft.Path = target;
        return $"request target '{WireText.Show(target, 60)}'";
    }

    private static string Version(FuzzRandom random, RequestDraft draft)
    {
        var version = random.Pick(["HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/3", "HTTP/9.9", "HTTP/1.1x", "http/1.1", "HTTP/1.01", "HTTP/11", "HTTP/",
            "HTTP/1.1 ", "HTTP/1.1\u0000", "", "HTTPS/1.1", "HTTP/0.9"]);
        draft.Version = version;

        // RFC 9110 §15.6.6: 505 is the HTTP layer's correct answer to a major version it does not support.
        draft.AllowedServerErrors = new HashSet<int> { 505 };
        return $"HTTP version '{WireText.Show(version)}'";
    }
}
