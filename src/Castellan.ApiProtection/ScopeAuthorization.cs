using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;

namespace Castellan.ApiProtection;

/// <summary>
/// Requires scopes in the caller's token. Accepts the RFC 9068 space-delimited <c>scope</c> string, the JSON
/// array form (one claim per scope) and Microsoft's <c>scp</c>.
/// </summary>
public sealed class ScopeRequirement : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public ScopeRequirement(IEnumerable<string> scopes, bool requireAll)
    {
        Scopes = scopes.ToArray();
        if (Scopes.Count == 0)
        {
            throw new ArgumentException("At least one scope is required.", nameof(scopes));
        }

        RequireAll = requireAll;
    }

    public IReadOnlyList<string> Scopes { get; }

    /// <summary>True: every scope is needed (all-of). False: any one of them (any-of).</summary>
    public bool RequireAll { get; }

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var matched = 0;
        foreach (var scope in requirement.Scopes)
        {
            if (HasScope(context.User, scope))
            {
                matched++;
                if (!requirement.RequireAll)
                {
                    break;
                }
            }
        }

        if (requirement.RequireAll ? matched == requirement.Scopes.Count : matched > 0)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    internal static bool HasScope(System.Security.Claims.ClaimsPrincipal user, string scope)
    {
        foreach (var claim in user.Claims)
        {
            if (claim.Type is not ("scope" or "scp"))
            {
                continue;
            }

            foreach (var range in claim.Value.AsSpan().Split(' '))
            {
                if (claim.Value.AsSpan()[range].SequenceEqual(scope))
                {
                    return true;
                }
            }
        }

        return false;
    }
}

public static class ScopeAuthorizationExtensions
{
    /// <summary>Requires an authenticated caller whose token has any one of <paramref name="scopes"/>.</summary>
    public static AuthorizationPolicyBuilder RequireScope(this AuthorizationPolicyBuilder builder, params string[] scopes)
        => builder.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scopes, requireAll: false));

    /// <summary>Requires an authenticated caller whose token has every one of <paramref name="scopes"/>.</summary>
    public static AuthorizationPolicyBuilder RequireAllScopes(this AuthorizationPolicyBuilder builder, params string[] scopes)
        => builder.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scopes, requireAll: true));

    /// <summary>Adds a named policy requiring any of the scopes, e.g. <c>options.AddScopePolicy("api1", "api1")</c>.</summary>
    public static AuthorizationOptions AddScopePolicy(this AuthorizationOptions options, string policyName, params string[] scopes)
    {
        options.AddPolicy(policyName, policy => policy.RequireScope(scopes));
        return options;
    }

    /// <summary>Protects an endpoint with a scope (any-of), e.g. <c>app.MapGet(...).RequireScope("orders.read")</c>.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, params string[] scopes) where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(policy => policy.RequireScope(scopes));
}
