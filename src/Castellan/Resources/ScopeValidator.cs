using Castellan.Clients;
using Castellan.Protocol;

namespace Castellan.Resources;

/// <summary>
/// Decides which API scopes a token request gets and which API resources become its audiences.
/// </summary>
internal static class ScopeValidator
{
    private static readonly ProtocolError MalformedScope = ProtocolError.InvalidScope("The scope parameter is malformed.");
    private static readonly ProtocolError NoScope = ProtocolError.InvalidScope("No scope was requested and the client has no default scopes.");

    /// <param name="requested">The raw <c>scope</c> parameter, or null when absent.</param>
    /// <param name="allowIdentityScopes">False for grants without a user, where identity scopes make no sense.</param>
    public static Outcome<GrantedResources> Validate(string? requested, ClientModel client, ResourceIndex index, string issuer,
        int maxLength, bool allowIdentityScopes)
    {
        var scopes = new List<string>(4);
        if (requested is null)
        {
            // RFC 6749 §3.3: without a scope the server uses a pre-defined default: every API scope the client may have.
            foreach (var allowed in client.Client.AllowedScopes)
            {
                if (index.ApiScopes.ContainsKey(allowed) && !scopes.Contains(allowed))
                {
                    scopes.Add(allowed);
                }
            }

            if (scopes.Count == 0)
            {
                return NoScope;
            }
        }
        else
        {
            if (requested.Length > maxLength || !ScopeParser.TryParse(requested, scopes))
            {
                return MalformedScope;
            }

            foreach (var scope in scopes)
            {
                if (!client.Scopes.Contains(scope))
                {
                    return ProtocolError.InvalidScope($"The client is not allowed the scope '{scope}'.");
                }

                var isApiScope = index.ApiScopes.ContainsKey(scope);
                var isIdentityScope = index.IdentityScopes.Contains(scope);
                if (isIdentityScope && !allowIdentityScopes && !isApiScope)
                {
                    return ProtocolError.InvalidScope($"The scope '{scope}' needs a user and cannot be granted here.");
                }

                if (!isApiScope && !isIdentityScope)
                {
                    return ProtocolError.InvalidScope($"The scope '{scope}' is unknown or disabled.");
                }
            }
        }

        return Resolve(scopes, index, issuer);
    }

    private static Outcome<GrantedResources> Resolve(List<string> scopes, ResourceIndex index, string issuer)
    {
        var audiences = new List<string>(2);
        List<string>? algorithms = null;
        foreach (var scope in scopes)
        {
            if (!index.ResourcesByScope.TryGetValue(scope, out var resources))
            {
                continue;
            }

            foreach (var resource in resources)
            {
                if (audiences.Contains(resource.Name))
                {
                    continue;
                }

                audiences.Add(resource.Name);
                if (resource.AllowedAccessTokenSigningAlgorithms.Count > 0)
                {
                    if (algorithms is null)
                    {
                        algorithms = [.. resource.AllowedAccessTokenSigningAlgorithms];
                    }
                    else
                    {
                        algorithms.RemoveAll(a => !resource.AllowedAccessTokenSigningAlgorithms.Contains(a));
                        if (algorithms.Count == 0)
                        {
                            return ProtocolError.InvalidScope("The requested scopes belong to APIs that accept no common signing algorithm; request them separately.");
                        }
                    }
                }
            }
        }

        if (audiences.Count == 0)
        {
            // RFC 9068 §2.2 makes aud required; scopes that no API resource claims get the server's own static audience.
            audiences.Add(issuer.TrimEnd('/') + "/resources");
        }

        return new GrantedResources(scopes, audiences, (IReadOnlyList<string>?)algorithms ?? []);
    }
}
