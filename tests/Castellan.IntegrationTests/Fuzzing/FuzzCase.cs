namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>One generated request (or pipelined series), and what must hold for the answer.</summary>
internal sealed record FuzzCase
{
    public required int Number { get; init; }

    public required FuzzEndpoint Endpoint { get; init; }

    /// <summary>The baseline the case broke; null only for a case that names none.</summary>
    public FuzzBaseline? Baseline { get; init; }

    /// <summary>One line: the kind of case and the one thing that was broken.</summary>
    public required string Description { get; init; }

    public required byte[] Wire { get; init; }

    /// <summary>How many answers a server that parses the bytes as intended would give (more than 1 when pipelined).</summary>
    public int ExpectedResponses { get; init; } = 1;

    /// <summary>
    /// Shut the sending side down after the bytes, so the server sees end of input (a truncated body or a missing
    /// last chunk would otherwise leave it waiting for the rest).
    /// </summary>
    public bool HalfClose { get; init; }

    /// <summary>Reset the connection (TCP RST) right after sending, mid-request: nothing is read back.</summary>
    public bool Reset { get; init; }

    /// <summary>The request method was HEAD: the answer has headers only, whatever its Content-Length says.</summary>
    public bool IsHead { get; init; }

    /// <summary>The case removed or broke something the request needs, so a 2xx means the server honoured it anyway.</summary>
    public bool MustNotSucceed { get; init; }

    /// <summary>Credentials and tokens that no answer may contain.</summary>
    public required IReadOnlyList<string> Secrets { get; init; }

    /// <summary>
    /// 5xx statuses that are the HTTP layer's correct answer to this request, e.g. 505 for an HTTP version Kestrel
    /// does not speak. Empty for nearly every case.
    /// </summary>
    public IReadOnlySet<int> AllowedServerErrors { get; init; } = NoServerErrors;

    /// <summary>The case sends the HTTP/2 connection preface, which Kestrel answers in HTTP/2 frames, not HTTP/1.x.</summary>
    public bool AnswerMayBeHttp2 { get; init; }

    public static IReadOnlySet<int> NoServerErrors { get; } = new HashSet<int>();

    public string Title => $"case {Number} → {Endpoint.DisplayName} ({Endpoint.Path}): {Description}";
}
