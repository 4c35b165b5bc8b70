using System.Text;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Breaks one header of a valid request: Authorization (missing, repeated, garbled Basic, other schemes, huge),
/// Content-Type (charsets, parameters, lists), Host (foreign, empty, ports, IPv6, huge) or others (conditional,
/// negotiation, encodings, floods, bad names and octets), or the DPoP proof of a baseline that sends one (missing,
/// repeated, cut, re-signed wrongly, for another request, hostile, huge).
/// </summary>
internal static class HeaderMutations
{
    private static readonly Func<FuzzRandom, RequestDraft, string>[] All = [Authorization, Authorization, ContentType, Host, Other];

    // Half the header cases of a baseline with a DPoP proof break the proof: it is that baseline's point.
    public static string Apply(FuzzRandom random, RequestDraft draft)
        => draft.DPoPHtu is not null && random.OneIn(2) ? DPoP(random, draft) : random.Pick(All)(random, draft);

    private static string Authorization(FuzzRandom random, RequestDraft draft)
    {
        var baseline = draft.Baseline.Authorization;
        if (baseline?.StartsWith("Bearer ", StringComparison.Ordinal) == true || baseline?.StartsWith("DPoP ", StringComparison.Ordinal) == true)
        {
            return Bearer(random, draft, baseline);
        }

        var valid = baseline ?? Basic(FuzzClients.JwtClientId, FuzzClients.JwtClientSecret);
        var (id, secret) = Credentials(valid);
        switch (random.Next(6))
        {
            case 0:
                draft.RemoveHeader("Authorization");
                draft.MustNotSucceed |= baseline is not null;
                return "Authorization: removed";
            case 1:
                var copies = random.Between(2, 60);
                draft.RemoveHeader("Authorization");
                for (var i = 0; i < copies; i++)
                {
                    draft.Headers.Insert(1, new("Authorization", random.OneIn(3) ? Garbage(random, id, secret, draft) : valid));
                }

                return $"Authorization: {copies} headers";
            case 2:
                var spelled = random.Pick(
                [
                    "basic " + valid[6..], "BASIC " + valid[6..], "Basic  " + valid[6..], "Basic\t" + valid[6..], valid + "  ",
                    "Basic " + valid[6..].Insert(4, random.Pick([" ", "\t"])),
                    "Basic " + Encode(WireText.FormEncodeAll(id, lowerCase: false) + ":" + WireText.FormEncode(secret)),
                ]);
                draft.SetHeader("Authorization", spelled);
                return $"Authorization: same credentials spelled '{WireText.Show(spelled, 40)}'";
            case 3 when random.OneIn(4):
                // RFC 7662 §2.1 lets an introspection endpoint accept a bearer token instead; so this may succeed.
                var bearer = "Bearer " + random.Pick([draft.Credentials.JwtAccessToken, draft.Credentials.ReferenceToken]);
                draft.SetHeader("Authorization", bearer);
                return "Authorization: Bearer with an issued access token";
            case 3:
                var joined = valid + random.Pick([", ", ",", "; ", " "]) + random.Pick([valid, "Bearer x", "Basic Og=="]);
                draft.SetHeader("Authorization", joined);
                draft.MustNotSucceed |= baseline is not null;
                return $"Authorization: two credentials in one header '{WireText.Show(joined, 60)}'";
            default:
                var garbage = Garbage(random, id, secret, draft);
                draft.SetHeader("Authorization", garbage);
                draft.MustNotSucceed |= baseline is not null;
                return $"Authorization: '{WireText.Show(garbage, 60)}'";
        }
    }

    /// <summary>An access token (RFC 6750 §2.1, or RFC 9449 §7.1 with the DPoP scheme) removed, repeated, respelled or broken.</summary>
    private static string Bearer(FuzzRandom random, RequestDraft draft, string valid)
    {
        var scheme = valid[..valid.IndexOf(' ', StringComparison.Ordinal)];
        var token = valid[(scheme.Length + 1)..];
        switch (random.Next(6))
        {
            case 0:
                draft.RemoveHeader("Authorization");
                draft.MustNotSucceed = true;
                return "Authorization: removed";
            case 1:
                var copies = random.Between(2, 20);
                draft.RemoveHeader("Authorization");
                for (var i = 0; i < copies; i++)
                {
                    draft.Headers.Insert(1, new("Authorization", valid));
                }

                draft.MustNotSucceed = true;
                return $"Authorization: {copies} headers";
            case 2:
                // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
                var spelled = random.Pick([scheme.ToLowerInvariant() + " " + token, scheme.ToUpperInvariant() + " " + token]);
                draft.SetHeader("Authorization", spelled);
                return $"Authorization: same token spelled '{WireText.Show(spelled, 40)}'";
            default:
                var broken = random.Next(8) switch
                {
                    // Not the last character: its low bits may be padding that decoding ignores.
                    0 => scheme + " " + token[..^10] + (token[^10] == 'A' ? 'B' : 'A') + token[^9..],
                    1 => scheme + " " + token + random.Pick(["x", "%00", ".", "=", "ÿ"]),
                    2 => scheme + " " + token[..random.Between(1, token.Length - 1)],
                    3 => scheme + " " + random.Pick([draft.Credentials.JwtAccessToken, draft.Credentials.ReferenceToken, draft.Credentials.IdToken]),
                    4 => scheme,
                    5 => valid + random.Pick([", Bearer x", " x", ",", ", " + valid]),
                    6 => Basic(FuzzClients.WebClientId, FuzzClients.WebClientSecret),
                    // The other scheme: a bound token sent as Bearer, or a bearer token's scheme swapped to DPoP.
                    7 when random.OneIn(2) => (scheme == "DPoP" ? "Bearer " : "DPoP ") + token,
                    _ => scheme + " " + random.Chars(random.Pick<int>([1_000, 9_000, 40_000]), "abcdefghijklmnopqrstuvwxyz0123456789-._~+/="),
                };
                draft.SetHeader("Authorization", broken);
                draft.MustNotSucceed = true;
                return $"Authorization: '{WireText.Show(broken, 60)}'";
        }
    }

    /// <summary>Authorization values that do not authenticate the client.</summary>
    private static string Garbage(FuzzRandom random, string id, string secret, RequestDraft draft)
    {
        var wrongSecret = secret + random.Pick(["x", "%00", " ", "\u00FF"]);
        draft.Secrets.Add(wrongSecret);
        var huge = Convert.ToBase64String(Encoding.ASCII.GetBytes(id + ":" + HostileText.Huge(random, 60_000)));
        return random.Next(22) switch
        {
            0 => "Basic",
            1 => "Basic ",
            2 => "Basic =",
            3 => "Basic !!!!" + random.Chars(random.Between(0, 40), "!@#$^*()[]{}"),
            4 => "Basic " + Encode(id + secret),
            5 => "Basic " + Encode(":" + secret),
            6 => "Basic " + Encode(id + ":"),
            7 => "Basic " + Encode(id + ":" + wrongSecret),
            8 => "Basic " + Encode(id.ToUpperInvariant() + ":" + secret),
            9 => "Basic " + Convert.ToBase64String([0xFF, 0xFE, (byte)':', 0xC3, 0x28, 0x80]),
            10 => "Basic " + Encode(id + ":" + secret).Insert(4, random.Pick(["\u0000", "%", "!", "\u00FF", "."])),
            11 => "Basic " + Encode(id + ":" + secret + "x").TrimEnd('='),
            12 => "Basic " + Encode(id + ":" + secret) + "====",
            13 => "Basic " + Encode(id + ":" + wrongSecret).Replace('+', '-').Replace('/', '_'),
            14 => "Basic " + huge[..random.Between(1_000, huge.Length)],
            15 => "Basic " + Encode(random.Pick([draft.Credentials.JwtAccessToken, draft.Credentials.ReferenceToken]) + ":" + secret),
            16 => random.Pick(["Bearer", "Digest username=\"x\", realm=\"y\", response=\"z\"", "Negotiate YIIB", "Basic realm=\"x\"", "Token x"]),
            17 => "Basic \u00FF\u00FE\u0000" + random.Octets(random.Between(0, 32)),
            18 => random.Octets(random.Between(1, 64)),
            19 => "Basic " + Encode("%ZZ:%" + random.Pick(["", "Z", "G0", "C3%28"])),
            20 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(HostileText.Unicode(random, 8) + ":" + secret)),
            _ => "Basic " + Encode(id + ":" + secret).ToLowerInvariant(),
        };
    }

    private static string ContentType(FuzzRandom random, RequestDraft draft)
    {
        const string Form = "application/x-www-form-urlencoded";
        if (random.OneIn(8))
        {
            draft.RemoveHeader("Content-Type");
            return "Content-Type: removed";
        }

        var value = random.Pick(
        [
            Form + "; charset=utf-8", Form + ";charset=UTF-8", Form.ToUpperInvariant(), Form + "; charset=\"utf-8\"", Form + " ; charset=utf-8",
            Form + "; charset=iso-8859-1", Form + "; charset=utf-16", Form + "; charset=utf-8; charset=latin1", Form + "; charset=",
            Form + "; charset", Form + "; boundary=----x", Form + ";;;;", Form + "; foo", Form + "; a=\"unterminated", Form + ",text/plain",
            Form + "\u0000", Form + "; charset=utf\u00C3\u00A98", Form + "; charset=" + new string('u', random.Size(40_000)),
            Form + string.Concat(Enumerable.Repeat("; p=v", random.Between(10, 2000))), "application/x-www-form-urlencodedx",
            "application/json", "multipart/form-data; boundary=x", "text/plain", "*/*", "application/*", "", " ", "\u00FF\u00FE",
            "application/x-www-form-urlencoded\u00A0", "form", ";charset=utf-8", "application/xml; charset=utf-8",
        ]);
        if (random.OneIn(6))
        {
            draft.Headers.Insert(1, new("Content-Type", value));
            return $"Content-Type: two headers, the other '{WireText.Show(value, 60)}'";
        }

        draft.SetHeader("Content-Type", value);
        return $"Content-Type: '{WireText.Show(value, 60)}'";
    }

    private static string Host(FuzzRandom random, RequestDraft draft)
    {
        switch (random.Next(8))
        {
            case 0:
                draft.RemoveHeader("Host");
                return "Host: removed";
            case 1:
                draft.Headers.Insert(0, new("Host", "evil.example"));
                return "Host: two headers, the first evil.example";
            case 2:
                var length = random.Pick<int>([256, 1_000, 8_000, 40_000]);
                draft.SetHeader("Host", random.Chars(length, "abcdefghijklmnopqrstuvwxyz0123456789-.") + ".example");
                return $"Host: {length + 8} characters";
            default:
                var host = random.Pick(
                [
                    "evil.example", "", "127.0.0.1:1", "[::1]", "[::1]:8080", "[::1", "::1", "localhost", "evil.example:443", "EVIL.EXAMPLE",
                    "evil.example.", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:", "user@evil.example", "evil.example/path", "%65vil.example",
                    "evil example", "evil.example\u0000", "\u00FF\u00FE", "xn--nxasmq6b.example", "127.1", ".", "..", "[fe80::1%25eth0]",
                    "evil.example:80:80", "*", "0", "evil.example\tx", "caf\u00C3\u00A9.example", "a_b.example", "-.example",
                ]);
                draft.SetHeader("Host", host);
                return $"Host: '{WireText.Show(host, 60)}'";
        }
    }

    private static string Other(FuzzRandom random, RequestDraft draft)
    {
        var (name, value) = random.Next(16) switch
        {
            0 => ("If-None-Match", random.Pick(["*", "W/\"x\"", "\"unterminated", "W/", ",,,,", "\"a\", W/\"b\", *", "\u00FF\"x\"", "W/\"\"", "\"" + new string('e', 9000) + "\""])),
            1 => ("If-None-Match", string.Join(", ", Enumerable.Range(0, random.Between(50, 3000)).Select(i => "\"" + i + "\""))),
            2 => ("Accept", random.Pick(["application/token-introspection+jwt", "application/token-introspection+jwt;q=abc", "application/jwt", "*/*;q=0",
                "application/json;q=0, application/token-introspection+jwt;q=1", "\u00FF", "text/html;q=2", ",,,", "application/*+jwt"])),
            3 => ("Expect", random.Pick(["100-continue", "101-switch", "garbage", "100-continue, 100-continue"])),
            4 => ("Content-Encoding", random.Pick(["gzip", "br", "deflate", "identity", "gzip, gzip", "x-unknown"])),
            5 => ("X-Forwarded-Host", random.Pick(["evil.example", "evil.example, 127.0.0.1", "\u0000"])),
            6 => ("X-Forwarded-Proto", random.Pick(["https", "javascript", "https, http", ""])),
            7 => ("Forwarded", random.Pick(["host=evil.example;proto=https", "for=\"[::1", "by=;;;"])),
            8 => ("Cookie", string.Join("; ", Enumerable.Range(0, random.Between(1, 500)).Select(i => "c" + i + "=" + new string('v', 40)))),
            9 => ("X-Pad", new string('p', random.Pick<int>([1_000, 16_000, 33_000, 100_000]))),
            10 => ("X-Fuzz", random.Octets(random.Between(1, 64))),
            11 => (random.Pick(["X Fuzz", "X-Fuzz\u0000", "X-F\u00FCzz", "(X)", "X@Fuzz", "\u00C3\u0028", "X\tFuzz"]), "v"),
            12 => ("Origin", random.Pick(["https://evil.example", "null", "file://", "\u00FF"])),
            13 => ("Upgrade", random.Pick(["websocket", "h2c", "HTTP/2.0", "TLS/1.2"])),
            14 => ("Content-Length", random.Pick(["0", "1", "-1", "abc", "99999999999999999999", "1, 1", " 5 ", "+5", "0x10"])),
            _ => ("Transfer-Encoding", random.Pick(["gzip", "identity", "chunked", "x", ""])),
        };

        if (random.OneIn(10))
        {
            var count = random.Pick<int>([50, 101, 500, 3000]);
            for (var i = 0; i < count; i++)
            {
                draft.Headers.Insert(1, new("X-Flood-" + i, "v"));
            }

            return $"{count} extra headers";
        }

        draft.SetHeader(name, value);
        return $"{WireText.Show(name, 30)}: '{WireText.Show(value, 60)}'";
    }

    /// <summary>
    /// The DPoP header of a baseline that sends one. The fuzz DPoP client
    /// requires a proof, so every case must fail.
    /// </summary>
    private static string DPoP(FuzzRandom random, RequestDraft draft)
    {
        if (draft.DPoPHtu is not { } htu || draft.IndexOfHeader("DPoP") is var index && index < 0)
        {
            // Another mutation took the header out already (a pipelined request of a framing case).
            return Other(random, draft);
        }

        var proof = draft.Headers[index].Value;
        var key = FuzzClients.DPoPKey;

        // Everything right but the one thing broken: at a resource the proof carries the token's hash (ath).
        var method = draft.Baseline.Method;
        var token = draft.Baseline.Authorization?.StartsWith("DPoP ", StringComparison.Ordinal) == true ? draft.Baseline.Authorization["DPoP ".Length..] : null;
        draft.MustNotSucceed = true;
        switch (random.Next(9))
        {
            case 0:
                draft.RemoveHeader("DPoP");
                return "DPoP: removed";
            case 1:
                // RFC 9449 §4.3: exactly one DPoP header. Fresh, valid proofs, so only the count is wrong.
                var copies = random.Between(2, 20);
                for (var i = 1; i < copies; i++)
                {
                    draft.Headers.Insert(index, new("DPoP", random.OneIn(2) ? proof : draft.Baseline.DPoPProof!(htu)));
                }

                return $"DPoP: {copies} headers";
            case 2:
                var cut = random.Between(0, proof.Length - 1);
                draft.Headers[index] = new("DPoP", proof[..cut]);
                return $"DPoP: cut to {cut} characters";
            case 3:
                // One character of the signature changed, not the last: its low bits are padding a decoder may ignore.
                var at = random.Between(proof.LastIndexOf('.') + 1, proof.Length - 2);
                var flipped = proof[..at] + (proof[at] == 'A' ? 'B' : 'A') + proof[(at + 1)..];
                draft.Headers[index] = new("DPoP", flipped);
                return "DPoP: signature changed";
            case 4:
                var (alg, signature) = random.Pick<(string, string)>([("none", ""), ("HS256", "c2lnbmF0dXJl"), ("ES256", ""), ("RS256", "AAAA")]);
                draft.Headers[index] = new("DPoP", key.UnsignedProof(alg, _ => signature, method, htu, token));
                return $"DPoP: alg {alg} with a made-up signature";
            case 5:
                var other = method == "GET" ? "POST" : "GET";
                var (htm, target, what) = random.Pick<(string, string, string)>(
                [
                    (other, htu, "htm " + other), (method, htu + "/other", "another htu"), (method, htu.Replace("http://", "https://", StringComparison.Ordinal), "htu https"),
                    (method, "http://evil.example/connect/token", "a foreign htu"),
                ]);
                draft.Headers[index] = new("DPoP", key.Proof(htm, target, token));
                return $"DPoP: a proof for {what}";
            case 6:
                var when = random.Pick<int>([-3600, -301, 301, 86_400]);
                draft.Headers[index] = new("DPoP", key.Proof(method, htu, token, iat: DateTimeOffset.UtcNow.AddSeconds(when)));
                return $"DPoP: iat {when} s from now";
            case 7:
                draft.Headers[index] = new("DPoP", key.Proof(method, htu, token, privateKeyInJwk: true));
                return "DPoP: the private key in jwk";
            default:
                var hostile = random.OneIn(3) ? proof + new string('A', random.Pick<int>([5_000, 20_000, 60_000])) : HostileText.Value(random);
                draft.Headers[index] = new("DPoP", hostile);
                return $"DPoP: '{WireText.Show(hostile, 40)}'";
        }
    }

    private static string Basic(string id, string secret) => "Basic " + Encode(id + ":" + secret);

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static (string Id, string Secret) Credentials(string basic)
    {
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(basic["Basic ".Length..]));
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return (Uri.UnescapeDataString(decoded[..colon]), Uri.UnescapeDataString(decoded[(colon + 1)..]));
    }
}
