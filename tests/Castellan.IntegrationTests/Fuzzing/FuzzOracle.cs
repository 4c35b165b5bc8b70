using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>A broken rule: what kind (stable, for grouping the same bug across cases) and the detail of this case.</summary>
internal sealed record Violation(string Kind, string Detail);

/// <summary>
/// What must hold for every answer to a hostile request, whatever it was: no 5xx, no secret or token echoed, no
/// redirect to an unregistered URI, a request that lost what it needs is not granted, error text within RFC 6749
/// §5.2, and the octets are HTTP.
/// A closed connection, a reset or no answer at all are acceptable: Kestrel may drop a connection it cannot parse.
/// </summary>
internal static class FuzzOracle
{
    /// <summary>Shorter values (like the standard clients' "secret") are ordinary words; searching for them proves nothing.</summary>
    private const int MinSecretLength = 8;

    public static List<Violation> Check(FuzzCase fuzzCase, Exchange exchange)
    {
        var violations = new List<Violation>();
        if (exchange.Garbage is not null && !fuzzCase.AnswerMayBeHttp2)
        {
            violations.Add(new("not HTTP", $"the server sent octets that are no HTTP/1.x answer: {exchange.Garbage}"));
        }

        foreach (var response in exchange.Responses)
        {
            if (response.Status >= 500 && !fuzzCase.AllowedServerErrors.Contains(response.Status))
            {
                violations.Add(new($"{response.Status} status", $"answered {response.Status}: {WireText.Show(response.Body, 200)}"));
            }

            if (fuzzCase.MustNotSucceed && exchange.Responses.Count == 1
                && (fuzzCase.Baseline?.IsGranted(response) ?? response.Status is >= 200 and < 300))
            {
                violations.Add(new("broken request granted", $"answered {response.Status} although the request lost something it needs: {WireText.Show(response.Body, 120)}"));
            }

            var location = response.Header("Location");
            if (location is not null && RedirectProblem(location) is { } problem)
            {
                violations.Add(new("redirect", $"answered {response.Status} with Location: {WireText.Show(location, 120)}, {problem}"));
            }
            else if (location is null && response.Status is >= 300 and < 400 and not 304)
            {
                violations.Add(new("redirect", $"answered {response.Status}, a redirect without a Location header"));
            }

            if (FormPostProblem(response.Body) is { } formPost)
            {
                violations.Add(new("form_post", $"answered {response.Status} with a form_post page {formPost}"));
            }

            if (response.Status is >= 400 and < 500 && BadErrorText(response.Body) is { } bad)
            {
                violations.Add(new("error text outside RFC 6749 §5.2", $"answered {response.Status} with {bad}"));
            }

            if (EchoedSecret(fuzzCase, response) is { } secret)
            {
                violations.Add(new("secret echoed", $"answered {response.Status} and the answer contains '{WireText.Show(secret, 40)}'"));
            }
        }

        return violations;
    }

    /// <summary>
    /// RFC 6749 §5.2: error and error_description hold only %x20-21 / %x23-5B / %x5D-7E. The descriptions that
    /// quote a parameter name are where hostile input could leak in.
    /// </summary>
    private static string? BadErrorText(string body)
    {
        if (!body.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(WireText.ToBytes(body));
            foreach (var name in (string[])["error", "error_description"])
            {
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var value)
                    && value.ValueKind == JsonValueKind.String
                    && value.GetString()!.Any(c => c is < ' ' or > '~' or '"' or '\\'))
                {
                    return $"{name} {WireText.Show(WireText.Utf8(value.GetString()!), 120)}";
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    /// <summary>
    /// Null when <paramref name="location"/> is a page of the server's interaction UI (login, consent, logout, error)
    /// or a registered redirect URI exactly, followed by '?' or '#' and an authorization response (RFC 6749 §4.1.2:
    /// a code or an error; RFC 9207: with iss; §5.2's characters in error and error_description).
    /// </summary>
    private static string? RedirectProblem(string location)
    {
        if (location.StartsWith('/') && !location.StartsWith("//", StringComparison.Ordinal) && !location.StartsWith("/\\", StringComparison.Ordinal))
        {
            var path = location.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? location[..q] : location;
            return FuzzTargets.InteractionPages.Contains(path, StringComparer.Ordinal) ? null : "a local path that is no interaction page";
        }

        var end = location.IndexOfAny(['?', '#']);
        if (end < 0 || !FuzzTargets.RegisteredRedirectUris.Contains(location[..end], StringComparer.Ordinal))
        {
            return "not a registered redirect URI";
        }

        return ResponseProblem(ParseParameters(location[(end + 1)..]));
    }

    /// <summary>The form_post page (OAuth 2.0 Form Post Response Mode §2): posts only to a registered redirect URI, an authorization response.</summary>
    private static string? FormPostProblem(string body)
    {
        const string Form = "<form method=\"post\" action=\"";
        var at = body.IndexOf(Form, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var start = at + Form.Length;
        var action = WebUtility.HtmlDecode(body[start..body.IndexOf('"', start)]);
        if (!FuzzTargets.RegisteredRedirectUris.Contains(action, StringComparer.Ordinal))
        {
            return $"posting to '{WireText.Show(action, 80)}', not a registered redirect URI";
        }

        var fields = Regex.Matches(body, "<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")
            .Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .ToList();
        return ResponseProblem(fields);
    }

    private static string? ResponseProblem(List<KeyValuePair<string, string>> parameters)
    {
        string? Get(string name) => parameters.FirstOrDefault(p => p.Key == name).Value;
        if (Get("iss") is null)
        {
            return "without iss (RFC 9207 §2)";
        }

        if (Get("code") is null == Get("error") is null)
        {
            return "with neither a code nor an error, or both";
        }

        foreach (var name in (string[])["error", "error_description"])
        {
            if (Get(name) is { } text && text.Any(c => c is < ' ' or > '~' or '"' or '\\'))
            {
                return $"whose {name} is outside RFC 6749 §5.2: {WireText.Show(WireText.Utf8(text), 80)}";
            }
        }

        return null;
    }

    private static List<KeyValuePair<string, string>> ParseParameters(string text)
        =>
        [
            .. text.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = equals < 0 ? pair : pair[..equals];
                var value = equals < 0 ? "" : pair[(equals + 1)..];
                return new KeyValuePair<string, string>(Uri.UnescapeDataString(name), Uri.UnescapeDataString(value.Replace('+', ' ')));
            }),
        ];

    private static string? EchoedSecret(FuzzCase fuzzCase, RawResponse response)
    {
        var headers = string.Join("\n", response.Headers.Select(h => h.Key + ": " + h.Value));
        var text = new StringBuilder(headers).Append('\n').Append(Utf8(response.Body));
        AppendJsonStrings(response.Body, text);
        var haystack = text.ToString();
        foreach (var secret in fuzzCase.Secrets)
        {
            if (secret.Length >= MinSecretLength && haystack.Contains(secret, StringComparison.Ordinal))
            {
                return secret;
            }
        }

        return null;
    }

    /// <summary>JSON writers escape characters such as '+' or '&lt;' (\u002B); compare the decoded strings too.</summary>
    private static void AppendJsonStrings(string body, StringBuilder text)
    {
        if (body.Length == 0 || body[0] != '{')
        {
            return;
        }

        try
        {
            using var json = JsonDocument.Parse(WireText.ToBytes(body));
            Append(json.RootElement, text);
        }
        catch (JsonException)
        {
        }

        static void Append(JsonElement element, StringBuilder text)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    text.Append('\n').Append(element.GetString());
                    break;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        text.Append('\n').Append(property.Name);
                        Append(property.Value, text);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Append(item, text);
                    }

                    break;
            }
        }
    }

    private static string Utf8(string wire) => Encoding.UTF8.GetString(WireText.ToBytes(wire));
}
