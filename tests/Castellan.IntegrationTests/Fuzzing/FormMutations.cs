using System.Globalization;
using System.Net;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Breaks one thing in the parameters of a valid request (the form of a POST endpoint, the query of a GET one):
/// drops, blanks, renames, duplicates, re-encodes or swaps in hostile and huge names and values, or floods the request
/// with parameters. Each returns a one-line description and marks the draft when the request can no longer succeed.
/// </summary>
internal static class FormMutations
{
    private static readonly Func<FuzzRandom, RequestDraft, string>[] All =
    [
        Drop, Blank, RenameCase, DuplicateCaseVariant, Duplicate, HugeValue, HostileValue, AppendToValue, ReencodeValue,
        HostileName, Flood, Inject, RawBody, MoveToQuery, Reorder,
    ];

    public static string Apply(FuzzRandom random, RequestDraft draft) => "form: " + random.Pick(All)(random, draft);

    private static string Drop(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        var field = draft.Parameters[index];
        draft.Parameters.RemoveAt(index);
        draft.MustNotSucceed |= field.Parameter?.Required == true;
        return $"drop '{field.Name}'";
    }

    private static string Blank(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        var field = draft.Parameters[index];
        var noEquals = random.OneIn(3);
        draft.Parameters[index] = field with { Value = "", HasEquals = !noEquals };

        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
        draft.MustNotSucceed |= field.Parameter?.Required == true;
        return noEquals ? $"'{field.Name}' without '='" : $"'{field.Name}' empty";
    }

    private static string RenameCase(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        // Parameter names are case-sensitive: GRANT_TYPE is an unknown parameter, and the real one is then missing.
        var field = draft.Parameters[index];
        var renamed = HostileText.OtherCase(random, field.Name);
        draft.Parameters[index] = field with { Name = renamed };
        draft.MustNotSucceed |= field.Parameter?.Required == true;
        return $"'{field.Name}' renamed '{renamed}'";
    }

    private static string DuplicateCaseVariant(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        var field = draft.Parameters[index];
        var variant = field with { Name = HostileText.OtherCase(random, field.Name), Parameter = null };
        if (random.OneIn(2))
        {
            variant = variant with { Value = HostileText.Value(random) };
        }

        draft.Parameters.Insert(random.Next(draft.Parameters.Count + 1), variant);
        return $"'{field.Name}' and also '{variant.Name}={WireText.Show(variant.Value, 40)}'";
    }

    private static string Duplicate(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        var field = draft.Parameters[index];
        var copies = random.OneIn(4) ? random.Between(2, 50) : 1;
        var sameValue = random.OneIn(2);
        for (var i = 0; i < copies; i++)
        {
            var copy = sameValue ? field : field with { Value = HostileText.Value(random) };
            draft.Parameters.Insert(random.Next(draft.Parameters.Count + 1), copy);
        }

        // RFC 6749 §3.2: no parameter more than once; RFC 8707 §2 lets resource repeat at the token endpoint.
        draft.MustNotSucceed |= draft.Baseline.HasForm && field.Name != "resource";
        return $"'{field.Name}' {copies + 1} times ({(sameValue ? "same value" : "other values")})";
    }

    private static string HugeValue(FuzzRandom random, RequestDraft draft)
    {
        var index = Pick(random, draft) ?? AddField(random, draft);
        var field = draft.Parameters[index];
        var value = HostileText.Huge(random, random.Pick<int>([4 * 1024, 70 * 1024, 300 * 1024]));
        draft.Parameters[index] = field with { Value = value };
        ChangedValue(draft, field, value);
        return $"'{field.Name}' of {value.Length} characters";
    }

    private static string HostileValue(FuzzRandom random, RequestDraft draft)
    {
        var index = Pick(random, draft) ?? AddField(random, draft);
        var field = draft.Parameters[index];
        var value = HostileText.Value(random);
        draft.Parameters[index] = field with { Value = value };
        ChangedValue(draft, field, value);
        return $"'{field.Name}={WireText.Show(value, 60)}'";
    }

    private static string AppendToValue(FuzzRandom random, RequestDraft draft)
    {
        var index = Pick(random, draft) ?? AddField(random, draft);
        var field = draft.Parameters[index];
        var suffix = random.Pick(["%00", "%0D%0A", "%20", "+", "%09", "\u00FF", "%FF", "%", "%Z", "%C3", "\u0000", "%E2%80%8B", ".", "%2F.."]);
        var value = random.OneIn(3) ? suffix + field.Value : field.Value + suffix;
        draft.Parameters[index] = field with { Value = value };
        ChangedValue(draft, field, value);
        return $"'{field.Name}' value wrapped with '{WireText.Show(suffix)}'";
    }

    private static string ReencodeValue(FuzzRandom random, RequestDraft draft)
    {
        if (Pick(random, draft) is not { } index || draft.Parameters[index].Parameter is not { } parameter)
        {
            return HostileValue(random, draft);
        }

        // The same decoded value, spelled with every octet percent-encoded: nothing is broken, it must parse the same.
        var lower = random.OneIn(2);
        draft.Parameters[index] = draft.Parameters[index] with { Value = WireText.FormEncodeAll(parameter.Value, lower) };
        return $"'{parameter.Name}' value fully percent-encoded ({(lower ? "lower" : "upper")}-case hex)";
    }

    private static string HostileName(FuzzRandom random, RequestDraft draft)
    {
        var name = HostileText.Name(random);
        if (Pick(random, draft) is { } index && random.OneIn(2))
        {
            var field = draft.Parameters[index];
            draft.Parameters[index] = field with { Name = name };
            draft.MustNotSucceed |= field.Parameter?.Required == true && Decode(name) != field.Parameter.Name;
            return $"'{field.Name}' renamed '{WireText.Show(name, 60)}'";
        }

        draft.Parameters.Insert(random.Next(draft.Parameters.Count + 1), new FormField(name, HostileText.Value(random)));
        return $"extra parameter named '{WireText.Show(name, 60)}'";
    }

    private static string Flood(FuzzRandom random, RequestDraft draft)
    {
        var count = random.Pick<int>([33, 200, 1000, 5000, 20_000]);
        var shape = random.Next(4);
        for (var i = 0; i < count; i++)
        {
            var field = shape switch
            {
                0 => new FormField("p" + i.ToString(CultureInfo.InvariantCulture), "x"),
                1 => new FormField("", "", HasEquals: false),
                2 => new FormField("=", ""),
                _ => new FormField(random.Pick(HostileText.ProtocolNames) + "_" + i.ToString(CultureInfo.InvariantCulture), HostileText.Value(random)),
            };
            draft.Parameters.Insert(random.Next(draft.Parameters.Count + 1), field);
        }

        return $"{count} extra parameters ({shape switch { 0 => "p<n>=x", 1 => "empty '&&'", 2 => "bare '='", _ => "hostile" }})";
    }

    private static string Inject(FuzzRandom random, RequestDraft draft)
    {
        var name = random.Pick(HostileText.ProtocolNames);
        var value = random.OneIn(2) ? HostileText.Value(random) : WireText.FormEncode(random.Pick(["https://evil.example/cb", "code", "openid", "api1 api2 offline_access", "*"]));
        draft.Parameters.Insert(random.Next(draft.Parameters.Count + 1), new FormField(name, value));
        AddSecretIfSlot(draft, name, value);
        return $"extra '{name}={WireText.Show(value, 60)}'";
    }

    private static string RawBody(FuzzRandom random, RequestDraft draft)
    {
        var kind = random.Next(6);
        var body = kind switch
        {
            0 => random.Octets(random.Size(70_000)),
            1 => "{\"grant_type\":\"client_credentials\",\"token\":\"x\"}",
            2 => new string('&', random.Size(100_000)),
            3 => HostileText.PercentTriplets(random, random.Size(20_000)),
            4 => "\u00EF\u00BB\u00BF" + string.Join('&', draft.Parameters.Select(f => f.Wire)),
            _ => string.Join("\r\n", draft.Parameters.Select(f => f.Wire)),
        };
        draft.RawBody = body;

        // Kinds 0-3 carry none of the baseline's parameters; the BOM and CRLF kinds still carry some of them.
        draft.MustNotSucceed |= kind < 4 && draft.Baseline.HasForm && draft.Baseline.Parameters.Any(p => p.Required);
        return $"body replaced by '{WireText.Show(body, 60)}'";
    }

    private static string MoveToQuery(FuzzRandom random, RequestDraft draft)
    {
        if (!draft.Baseline.HasForm || Pick(random, draft) is not { } index)
        {
            return Inject(random, draft);
        }

        var field = draft.Form[index];
        draft.Form.RemoveAt(index);
        draft.Query.Add(field);
        draft.MustNotSucceed |= field.Parameter?.Required == true;
        return $"'{field.Name}' moved from the body to the query";
    }

    private static string Reorder(FuzzRandom random, RequestDraft draft)
    {
        var fields = draft.Parameters;
        for (var i = fields.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (fields[i], fields[j]) = (fields[j], fields[i]);
        }

        return "parameters reordered: " + string.Join(", ", fields.Select(f => f.Name));
    }

    private static int? Pick(FuzzRandom random, RequestDraft draft)
        => draft.Parameters.Count == 0 ? null : random.Next(draft.Parameters.Count);

    private static int AddField(FuzzRandom random, RequestDraft draft)
    {
        draft.Parameters.Add(new FormField(random.Pick(HostileText.ProtocolNames), "x"));
        return draft.Parameters.Count - 1;
    }

    /// <summary>A new value for a baseline parameter: an exact one can no longer succeed; a secret one must not be echoed.</summary>
    private static void ChangedValue(RequestDraft draft, FormField field, string value)
    {
        if (field.Parameter is { } parameter && Decode(value) != parameter.Value)
        {
            draft.MustNotSucceed |= parameter.Exact;
        }

        AddSecretIfSlot(draft, field.Name, value);
    }

    private static void AddSecretIfSlot(RequestDraft draft, string name, string value)
    {
        if (name is "client_secret" or "token" or "refresh_token" or "code" or "client_assertion" or "password")
        {
            draft.Secrets.Add(Decode(value));
        }
    }

    /// <summary>How a form reader decodes a wire value ('+' is a space, invalid escapes stay literal).</summary>
    private static string Decode(string wire) => WebUtility.UrlDecode(wire);
}
