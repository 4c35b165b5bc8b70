namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// One parameter of a baseline request, with what the oracle may conclude when a case breaks it.
/// </summary>
/// <param name="Required">Dropping or blanking it (or spelling its name in another case) must make the request fail.</param>
/// <param name="Exact">Any change to its decoded value must make the request fail (grant_type, client credentials).</param>
/// <param name="Secret">Its value is a credential or token: no answer may echo it.</param>
internal sealed record FuzzParameter(string Name, string Value, bool Required = false, bool Exact = false, bool Secret = false);

/// <summary>A well-formed request that succeeds against its endpoint (see <see cref="IsGranted"/>); every case breaks one thing of it.</summary>
/// <param name="Authorization">The Authorization header, or null. When set it is the only client authentication, so removing it must fail.</param>
internal sealed record FuzzBaseline(string Name, string Method, string? Authorization, IReadOnlyList<FuzzParameter> Parameters)
{
    /// <summary>POST endpoints read a form body; GET endpoints get their parameters in the query.</summary>
    public bool HasForm => Method == "POST";

    /// <summary>A Cookie header the request carries (the browser session of the authorize endpoints), or null.</summary>
    public string? Cookie { get; init; }

    /// <summary>
    /// The methods the endpoint answers like the baseline's (userinfo takes GET and POST alike); null for the
    /// baseline's own (plus HEAD for GET).
    /// </summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>
    /// Whether an answer granted the request. Null means any 2xx; the authorize endpoints answer errors with a 302
    /// (or a 200 form_post page) as well, so for them only an answer carrying a code counts.
    /// </summary>
    public Func<RawResponse, bool>? Granted { get; init; }

    public bool IsGranted(RawResponse response) => Granted?.Invoke(response) ?? response.Status is >= 200 and < 300;

    /// <summary>
    /// Makes a fresh DPoP proof (RFC 9449 §4) for the given <c>htu</c>, sent as the <c>DPoP</c> header; null sends
    /// none. Proofs are single-use, so every request built from the baseline gets its own.
    /// </summary>
    public Func<string, string>? DPoPProof { get; init; }

    /// <summary>
    /// Makes the parameters afresh for each request, for values that are accepted once (a client assertion's
    /// <c>jti</c>); they must have the names and flags of <see cref="Parameters"/>. Null uses <see cref="Parameters"/>.
    /// </summary>
    public Func<IReadOnlyList<FuzzParameter>>? FreshParameters { get; init; }
}

/// <summary>What the fuzzer knows about one mapped Castellan endpoint: its display name and the baselines to mutate.</summary>
internal sealed record FuzzTarget(string DisplayName, IReadOnlyList<FuzzBaseline> Baselines);

/// <summary>A mapped endpoint at its path, joined with its table entry.</summary>
internal sealed record FuzzEndpoint(string DisplayName, string Path, FuzzTarget Target);
