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
    /// <param name="allowIdentityScopes">False for grants without a user, where identity scopes (and <c>offline_access</c>) make no sense.</param>
    /// <param name="resourceIndicators">The RFC 8707 <c>resource</c> values; empty when none were sent.</param>
    public static Outcome<GrantedResources> Validate(string? requested, IReadOnlyList<string> resourceIndicators, ClientModel client,
        ResourceIndex index, string issuer, int maxLength, bool allowIdentityScopes)
    {
        List<ApiResource>? targets = null;
        if (resourceIndicators.Count > 0)
        {
            var resolved = ResolveTargets(resourceIndicators, client, index);
            if (resolved.IsError)
            {
                return resolved.Error!;
            }

            targets = resolved.Value!;
        }

        var scopes = new List<string>(4);
        if (requested is null)
        {
            // RFC 6749 §3.3: without a scope the server uses a pre-defined default: every API scope the client may
            // have (RFC 8707: of the named resources, when the client named any).
            foreach (var allowed in client.Client.AllowedScopes)
            {
                // Scopes of APIs that must be named are part of the default only when their API was named.
                if (index.ApiScopes.ContainsKey(allowed) && !scopes.Contains(allowed)
                    && (targets is null ? !index.ScopesOnlyByIndicator.Contains(allowed) : BelongsTo(allowed, targets)))
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
                if (scope == StandardScopes.OfflineAccess)
                {
                    // OIDC Core §11: asks for a refresh token; granted only for a user, to a client allowed it.
                    if (!allowIdentityScopes || !client.Client.AllowOfflineAccess)
                    {
                        return ProtocolError.InvalidScope("The client is not allowed the scope 'offline_access'.");
                    }

                    continue;
                }

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

                if (targets is not null && isApiScope && !BelongsTo(scope, targets))
                {
                    return ProtocolError.InvalidScope($"The scope '{scope}' does not belong to the requested resource.");
                }

                if (targets is null && index.ScopesOnlyByIndicator.Contains(scope))
                {
                    // Granting it without its API in aud would mint a token carrying the scope for no API that
                    // accepts it, or for whatever API accepts the fallback audience: refuse, and say what is missing.
                    return new ProtocolError(OAuthErrors.InvalidTarget,
                        $"The scope '{scope}' belongs to an API that must be named with the resource parameter.");
                }
            }
        }

        return Resolve(scopes, targets, index, issuer);
    }

    private static readonly ProtocolError MalformedTarget =
        new(OAuthErrors.InvalidTarget, "The resource parameter must be an absolute URI without a fragment.");

    private static readonly ProtocolError UnknownTarget =
        new(OAuthErrors.InvalidTarget, "The requested resource is unknown or not allowed for this client.");

    /// <summary>RFC 8707 §2: each value an absolute URI without fragment, naming an API resource this client may use.</summary>
    private static Outcome<List<ApiResource>> ResolveTargets(IReadOnlyList<string> indicators, ClientModel client, ResourceIndex index)
    {
        var targets = new List<ApiResource>(indicators.Count);
        foreach (var indicator in indicators)
        {
            if (indicator.Length > 2048 || !Uri.TryCreate(indicator, UriKind.Absolute, out var uri) || indicator.Contains('#', StringComparison.Ordinal)
                || uri.IsFile)
            {
                return MalformedTarget;
            }

            if (!index.ApiResources.TryGetValue(indicator, out var resource) || !resource.Scopes.Any(client.Scopes.Contains))
            {
                return UnknownTarget;
            }

            if (!targets.Contains(resource))
            {
                targets.Add(resource);
            }
        }

        return targets;
    }

    private static bool BelongsTo(string scope, List<ApiResource> targets)
    {
        foreach (var target in targets)
        {
            if (target.Scopes.Contains(scope))
            {
                return true;
            }
        }

        return false;
    }

    private static Outcome<GrantedResources> Resolve(List<string> scopes, List<ApiResource>? targets, ResourceIndex index, string issuer)
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
                // With resource indicators the audience is exactly what was named (RFC 8707 §2); without them, APIs
                // that insist on being named are left out.
                var included = targets is null ? !resource.RequireResourceIndicator : targets.Contains(resource);
                if (!included || audiences.Contains(resource.Name))
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
