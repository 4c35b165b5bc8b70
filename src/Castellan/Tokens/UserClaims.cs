using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Castellan.Resources;

namespace Castellan.Tokens;

/// <summary>
/// The one claims pipeline for users: which claim types a token or userinfo response may carry for the granted
/// scopes, and how the profile service's claims become JSON with their types kept (booleans, numbers, objects;
/// a type given more than once becomes an array).
/// </summary>
internal static class UserClaims
{
    /// <summary>Claims the server writes itself; a profile claim of these names is dropped, never lets a user override them.</summary>
    private static readonly HashSet<string> Protocol = new(StringComparer.Ordinal)
    {
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "sid", "cnf", "auth_time", "acr", "amr", "azp", "nonce",
        "at_hash", "c_hash", "typ", "events",
    };

    /// <summary>The claim types of the identity scopes among <paramref name="scopes"/> (id_token, userinfo).</summary>
    public static HashSet<string> IdentityClaimTypes(IReadOnlyList<string> scopes, ResourceIndex index)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in scopes)
        {
            if (index.IdentityClaimsByScope.TryGetValue(scope, out var claims))
            {
                types.UnionWith(claims);
            }
        }

        types.Remove("sub");
        return types;
    }

    /// <summary>The claim types access tokens carry for these API scopes and audiences; null when none (the common case: no profile call).</summary>
    public static HashSet<string>? AccessTokenClaimTypes(IReadOnlyList<string> scopes, IReadOnlyList<string> audiences, ResourceIndex index)
    {
        HashSet<string>? types = null;
        if (index.ApiClaimsByScope.Count > 0)
        {
            foreach (var scope in scopes)
            {
                if (index.ApiClaimsByScope.TryGetValue(scope, out var claims))
                {
                    (types ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(claims);
                }
            }
        }

        if (index.ApiClaimsByResource.Count > 0)
        {
            foreach (var audience in audiences)
            {
                if (index.ApiClaimsByResource.TryGetValue(audience, out var claims))
                {
                    (types ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(claims);
                }
            }
        }

        return types;
    }

    /// <summary>
    /// Claims → token claims: typed by <see cref="Claim.ValueType"/>, repeated types as arrays, protocol names and
    /// types that were not asked for dropped (whatever a custom profile service returns, a scope releases only its own).
    /// </summary>
    public static List<TokenClaim> ToTokenClaims(IReadOnlyList<Claim> claims, IReadOnlySet<string> requested)
    {
        var result = new List<TokenClaim>(claims.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in claims)
        {
            if (Protocol.Contains(claim.Type) || !requested.Contains(claim.Type) || !seen.Add(claim.Type))
            {
                continue;
            }

            var same = claims.Where(c => c.Type == claim.Type).ToArray();
            if (same.Length == 1)
            {
                if (Create(claim) is { } single)
                {
                    result.Add(single);
                }

                continue;
            }

            // A type given more than once (roles, groups) is one JSON array of the typed values.
            var array = new StringBuilder("[");
            foreach (var value in same)
            {
                if (Create(value) is not { } item)
                {
                    continue;
                }

                if (array.Length > 1)
                {
                    array.Append(',');
                }

                array.Append(item.Kind == TokenClaimKind.String ? JsonSerializer.Serialize(item.Value) : item.Value);
            }

            result.Add(new TokenClaim(claim.Type, array.Append(']').ToString(), TokenClaimKind.Json));
        }

        return result;
    }

    /// <summary>A claim whose value does not fit its declared type is left out rather than written as something it is not.</summary>
    private static TokenClaim? Create(Claim claim)
        => TokenClaim.Create(claim.Type, claim.Value, claim.ValueType == ClaimValueTypes.String ? null : claim.ValueType, out _);
}
