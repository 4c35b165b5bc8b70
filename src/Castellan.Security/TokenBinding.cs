using System.Security.Claims;
using System.Text.Json;

namespace Castellan.Security;

/// <summary>
/// What an access token is bound to, read from its confirmation claim (<c>cnf</c>, RFC 7800): a DPoP key
/// (<c>jkt</c>, RFC 9449 §6) and/or a client certificate (<c>x5t#S256</c>, RFC 8705 §3). The same claim comes from
/// a JWT's payload and from an introspection answer (RFC 9449 §6.2, RFC 8705 §3.2), so both token kinds are held to
/// one rule.
/// </summary>
public readonly record struct TokenBinding(string? JwkThumbprint, string? CertificateThumbprint, bool Unverifiable)
{
    public const string ClaimType = "cnf";

    /// <summary>The DPoP member of <c>cnf</c> (RFC 9449 §6.1).</summary>
    public const string DPoPMember = "jkt";

    private static readonly TokenBinding Unusable = new(null, null, Unverifiable: true);

    /// <summary>A bearer token: no <c>cnf</c>.</summary>
    public static TokenBinding None => default;

    public bool IsBound => JwkThumbprint is not null || CertificateThumbprint is not null || Unverifiable;

    /// <summary>
    /// The binding of the token <paramref name="identity"/> was built from. A <c>cnf</c> this API cannot check (not a
    /// JSON object, a member of the wrong type, or only members other than <c>jkt</c> and <c>x5t#S256</c>, such as a
    /// <c>jwk</c> for another proof-of-possession scheme) is <see cref="Unverifiable"/>, and such a token is refused:
    /// a binding the API ignored would make a sender-constrained token a bearer token again (RFC 7800 §3.1).
    /// </summary>
    public static TokenBinding From(ClaimsIdentity identity)
    {
        Claim? found = null;
        foreach (var claim in identity.Claims)
        {
            if (claim.Type == ClaimType)
            {
                if (found is not null)
                {
                    return Unusable;
                }

                found = claim;
            }
        }

        return found is null ? None : Parse(found.Value);
    }

    /// <summary>The binding a <c>cnf</c> value given as JSON text describes.</summary>
    public static TokenBinding Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement);
        }
        catch (JsonException)
        {
            return Unusable;
        }
    }

    /// <summary>The binding of a token whose claim set is <paramref name="payload"/> (a JWT payload or an introspection answer).</summary>
    public static TokenBinding FromPayload(JsonElement payload)
        => payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(ClaimType, out var cnf) ? Parse(cnf) : None;

    /// <summary>The binding a <c>cnf</c> value describes.</summary>
    public static TokenBinding Parse(JsonElement cnf)
    {
        if (cnf.ValueKind != JsonValueKind.Object)
        {
            return Unusable;
        }

        string? jkt = null, x5t = null;
        foreach (var member in cnf.EnumerateObject())
        {
            // A member repeated, of the wrong type, or unknown to this code binds the token to something we cannot
            // check: refused rather than ignored.
            if (member.Value.ValueKind != JsonValueKind.String || member.Value.GetString() is not { Length: > 0 } value)
            {
                return Unusable;
            }

            if (member.NameEquals(DPoPMember) && jkt is null)
            {
                jkt = value;
            }
            else if (member.NameEquals(global::Castellan.Security.CertificateThumbprint.ConfirmationMember) && x5t is null)
            {
                x5t = value;
            }
            else
            {
                return Unusable;
            }
        }

        return jkt is null && x5t is null ? Unusable : new TokenBinding(jkt, x5t, Unverifiable: false);
    }
}
