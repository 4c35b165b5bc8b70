using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Collects the outcome of every case and writes the summary and the failure message: violations grouped into
/// distinct findings (endpoint, rule broken, kind of case), each with its smallest example and how to replay it.
/// </summary>
internal sealed class FuzzReport(FuzzSettings settings)
{
    private readonly ConcurrentBag<(FuzzCase Case, Exchange Exchange, Violation Violation)> _violations = [];
    private readonly ConcurrentDictionary<string, int> _outcomes = new(StringComparer.Ordinal);
    private int _cases;
    private int _nudged;

    public int Cases => _cases;

    public bool HasViolations => !_violations.IsEmpty;

    public void Add(FuzzCase fuzzCase, Exchange exchange, IReadOnlyList<Violation> violations)
    {
        Interlocked.Increment(ref _cases);
        if (exchange.Nudged)
        {
            Interlocked.Increment(ref _nudged);
        }

        var outcome = exchange.Responses.Count == 0
            ? "no answer, " + exchange.Ending
            : string.Join('+', exchange.Responses.Select(r => r.Status.ToString(CultureInfo.InvariantCulture)));
        _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        foreach (var violation in violations)
        {
            _violations.Add((fuzzCase, exchange, violation));
        }
    }

    /// <summary>A failed liveness check ends the run; it is reported like a finding of the batch's last case.</summary>
    public void AddDeadServer(FuzzCase lastCase, string detail)
        => _violations.Add((lastCase, new Exchange([], null, "", false), new Violation("server not alive", detail)));

    public string Summary(int endpoints, TimeSpan elapsed)
    {
        var summary = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"Fuzzed {endpoints} endpoints with {_cases} cases, seed {settings.Seed}, in {elapsed.TotalSeconds:F1} s.")
            .AppendLine()
            .Append("Answers: ")
            .AppendJoin(", ", _outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} ×{o.Value}"))
            .AppendLine();
        if (_nudged > 0)
        {
            summary.Append(CultureInfo.InvariantCulture, $"{_nudged} cases got their input ended after a quiet period (the server was still waiting for more).").AppendLine();
        }

        return summary.ToString();
    }

    public string FailureMessage()
    {
        var findings = _violations
            .GroupBy(v => (v.Case.Endpoint.DisplayName, v.Violation.Kind, Family: Family(v.Case.Description)))
            .OrderBy(g => g.Key.DisplayName, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Kind, StringComparer.Ordinal)
            .ToList();
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"Fuzzing (seed {settings.Seed}, {_cases} cases) broke {_violations.Count} rules, {findings.Count} distinct findings.")
            .AppendLine();
        var number = 0;
        foreach (var finding in findings)
        {
            var cases = finding.Select(v => v.Case.Number).Distinct().Order().ToList();
            var smallest = finding.OrderBy(v => v.Case.Wire.Length).ThenBy(v => v.Case.Number).First();
            message.AppendLine()
                .Append(CultureInfo.InvariantCulture, $"{++number}. {finding.Key.DisplayName}: {finding.Key.Kind} after '{finding.Key.Family}' cases ")
                .Append(CultureInfo.InvariantCulture, $"({cases.Count} cases: {string.Join(", ", cases.Take(8))}{(cases.Count > 8 ? ", ..." : "")})")
                .AppendLine()
                .Append("   smallest: ").Append(smallest.Case.Title).AppendLine()
                .Append("   ").Append(smallest.Violation.Detail).AppendLine()
                .Append("   request: ").Append(WireText.Show(WireText.FromBytes(smallest.Case.Wire), 400)).AppendLine()
                .Append("   replay: ").Append(settings.ReplayCommand(smallest.Case.Number)).AppendLine();
            foreach (var other in finding.Where(v => v.Case.Description != smallest.Case.Description).DistinctBy(v => v.Case.Description).OrderBy(v => v.Case.Number).Take(3))
            {
                message.Append("   also: ").Append(other.Case.Title).AppendLine();
            }
        }

        return message.ToString();
    }

    /// <summary>Details of one case for a replay: the full request and what came back.</summary>
    public static string Describe(FuzzCase fuzzCase, Exchange exchange, IReadOnlyList<Violation> violations)
    {
        var text = new StringBuilder()
            .Append(fuzzCase.Title).AppendLine()
            .Append(CultureInfo.InvariantCulture, $"sent {fuzzCase.Wire.Length} octets{(fuzzCase.HalfClose ? ", then ended the input" : "")}: ")
            .Append(WireText.Show(WireText.FromBytes(fuzzCase.Wire), 4000)).AppendLine()
            .Append(CultureInfo.InvariantCulture, $"connection: {exchange.Ending}{(exchange.Nudged ? " (input ended after a quiet period)" : "")}").AppendLine();
        foreach (var response in exchange.Responses)
        {
            text.Append(CultureInfo.InvariantCulture, $"answer {response.Status}: ")
                .AppendJoin("; ", response.Headers.Select(h => h.Key + ": " + WireText.Show(h.Value, 80)))
                .Append(" | ").Append(WireText.Show(response.Body, 1000)).AppendLine();
        }

        foreach (var violation in violations)
        {
            text.Append("VIOLATION ").Append(violation.Kind).Append(": ").Append(violation.Detail).AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The kind of case, e.g. "framing: chunked: chunk size not hex", "form" or "method", from the description.</summary>
    private static string Family(string description)
    {
        var text = description[(description.IndexOf(']', StringComparison.Ordinal) + 2)..];
        var framing = text.StartsWith("framing: ", StringComparison.Ordinal);
        if (framing)
        {
            text = text["framing: ".Length..];
        }

        var cut = text.IndexOfAny(framing ? ['(', '\'', ','] : [':', '\'', '(']);
        var family = Regex.Replace(cut < 0 ? text : text[..cut], "[0-9]+", "N").Trim();
        return framing ? "framing: " + family : family;
    }
}
