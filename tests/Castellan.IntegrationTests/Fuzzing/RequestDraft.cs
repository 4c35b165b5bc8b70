using System.Globalization;
using System.Text;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>A form or query field as wire text: name and value already percent-encoded (or deliberately not).</summary>
/// <param name="Parameter">The baseline parameter it came from, or null for an injected one.</param>
/// <param name="HasEquals">False writes the name alone, without '='.</param>
internal sealed record FormField(string Name, string Value, FuzzParameter? Parameter = null, bool HasEquals = true)
{
    public string Wire => HasEquals ? Name + "=" + Value : Name;

    public static FormField From(FuzzParameter parameter)
        => new(WireText.FormEncode(parameter.Name), WireText.FormEncode(parameter.Value), parameter);
}

/// <summary>
/// A well-formed HTTP/1.1 request built from a <see cref="FuzzBaseline"/>, which one mutation then breaks in one place
/// before it is written to the wire. Everything is wire text (see <see cref="WireText"/>).
/// </summary>
internal sealed class RequestDraft
{
    private RequestDraft(FuzzEndpoint endpoint, FuzzBaseline baseline, string authority, FuzzCredentials credentials)
    {
        Endpoint = endpoint;
        Credentials = credentials;
        Secrets.AddRange(credentials.All);
        Baseline = baseline;
        Method = baseline.Method;
        Path = endpoint.Path;
        Headers.Add(new("Host", authority));
        if (baseline.Authorization is not null)
        {
            Headers.Add(new("Authorization", baseline.Authorization));
        }

        if (baseline.Cookie is not null)
        {
            Headers.Add(new("Cookie", baseline.Cookie));
        }

        if (baseline.HasForm)
        {
            Headers.Add(new("Content-Type", "application/x-www-form-urlencoded"));
        }

        if (baseline.DPoPProof is { } proof)
        {
            // The token server's issuer is its base address, so an endpoint's URL is the authority and the path.
            DPoPHtu = "http://" + authority + endpoint.Path;
            Headers.Add(new("DPoP", proof(DPoPHtu)));
        }

        Headers.Add(new("Connection", "close"));
        var parameters = baseline.FreshParameters?.Invoke() ?? baseline.Parameters;
        (baseline.HasForm ? Form : Query).AddRange(parameters.Select(FormField.From));
        Secrets.AddRange(parameters.Where(p => p.Secret).Select(p => p.Value));
    }

    public FuzzEndpoint Endpoint { get; }

    public FuzzBaseline Baseline { get; }

    /// <summary>The <c>htu</c> of the baseline's DPoP proof, or null when it sends none.</summary>
    public string? DPoPHtu { get; }

    /// <summary>The tokens issued for the baselines; every case treats them and the clients' secrets as secrets.</summary>
    public FuzzCredentials Credentials { get; }

    public string Method { get; set; }

    public string Path { get; set; }

    public List<FormField> Query { get; } = [];

    public List<FormField> Form { get; } = [];

    /// <summary>The fields the endpoint reads: the form of a POST endpoint, the query of a GET one.</summary>
    public List<FormField> Parameters => Baseline.HasForm ? Form : Query;

    /// <summary>Replaces the encoded form as the body when set.</summary>
    public string? RawBody { get; set; }

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public string Version { get; set; } = "HTTP/1.1";

    /// <summary>False leaves Content-Length out (the case then sets its own framing headers, or none).</summary>
    public bool AddContentLength { get; set; } = true;

    /// <summary>Set by a mutation that removed or broke something the request needs (see <see cref="FuzzCase.MustNotSucceed"/>).</summary>
    public bool MustNotSucceed { get; set; }

    /// <summary>Credentials and tokens the request carries (the mutations add the ones they make up).</summary>
    public List<string> Secrets { get; } = [];

    public bool HalfClose { get; set; }

    /// <summary>After sending, reset the connection (TCP RST), as a crashed client or a dropped link does.</summary>
    public bool Reset { get; set; }

    public int ExpectedResponses { get; set; } = 1;

    public IReadOnlySet<int> AllowedServerErrors { get; set; } = FuzzCase.NoServerErrors;

    public bool AnswerMayBeHttp2 { get; set; }

    /// <summary>Set by the framing cases, which write the bytes themselves.</summary>
    public string? WireOverride { get; set; }

    public static RequestDraft For(FuzzEndpoint endpoint, FuzzBaseline baseline, string authority, FuzzCredentials credentials)
        => new(endpoint, baseline, authority, credentials);

    public string Body => RawBody ?? (Baseline.HasForm || Form.Count > 0 ? string.Join('&', Form.Select(f => f.Wire)) : "");

    public string RequestTarget => Query.Count == 0 ? Path : Path + "?" + string.Join('&', Query.Select(f => f.Wire));

    public int IndexOfHeader(string name) => Headers.FindIndex(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public void SetHeader(string name, string value)
    {
        var index = IndexOfHeader(name);
        if (index < 0)
        {
            // Before Connection, so the request keeps ending the same way.
            Headers.Insert(Math.Max(0, Headers.Count - 1), new(name, value));
        }
        else
        {
            Headers[index] = new(name, value);
        }
    }

    public void RemoveHeader(string name) => Headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public string ToWire() => WireOverride ?? Head(includeLength: AddContentLength) + Body;

    /// <summary>
    /// The request line and headers, through the empty line. Content-Length is added only when asked and when no
    /// Content-Length or Transfer-Encoding header is there already.
    /// </summary>
    public string Head(bool includeLength)
    {
        var body = Body;
        var wire = new StringBuilder();
        wire.Append(Method).Append(' ').Append(RequestTarget).Append(' ').Append(Version).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            wire.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        var framed = IndexOfHeader("Content-Length") >= 0 || IndexOfHeader("Transfer-Encoding") >= 0;
        if (includeLength && !framed && (body.Length > 0 || Baseline.HasForm))
        {
            wire.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return wire.Append("\r\n").ToString();
    }
}
