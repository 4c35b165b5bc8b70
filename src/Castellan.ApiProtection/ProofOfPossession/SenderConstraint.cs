using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Castellan.ApiProtection;

/// <summary>
/// Set on <see cref="HttpContext.Features"/> by the Castellan API scheme when the request's access token is
/// sender-constrained and the caller proved possession of its key: a DPoP proof signed by the <c>cnf.jkt</c> key, or
/// the client certificate named by <c>cnf.x5t#S256</c>. Absent for bearer tokens.
/// </summary>
public sealed class SenderConstraintFeature(string? dpopKeyThumbprint, string? certificateThumbprint)
{
    /// <summary>The RFC 7638 thumbprint of the DPoP key the caller proved, or null.</summary>
    public string? DPoPKeyThumbprint { get; } = dpopKeyThumbprint;

    /// <summary>The <c>x5t#S256</c> of the client certificate the caller presented, or null.</summary>
    public string? CertificateThumbprint { get; } = certificateThumbprint;
}

/// <summary>
/// Requires that the request was authenticated with a sender-constrained access token whose binding was checked
/// (DPoP or mutual TLS): a bearer token, however valid, does not satisfy it. RFC 9700 §2.2 recommends such tokens;
/// this lets an API insist on them per endpoint while others still take bearer tokens.
/// </summary>
public sealed class SenderConstrainedTokenRequirement : AuthorizationHandler<SenderConstrainedTokenRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SenderConstrainedTokenRequirement requirement)
    {
        // With endpoint routing (minimal APIs and MVC alike) the resource is the HttpContext. The feature is set
        // only by the Castellan scheme after it checked the proof, so a claim in a token cannot fake it.
        if (context.Resource is HttpContext http && http.Features.Get<SenderConstraintFeature>() is not null)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

public static class SenderConstraintAuthorizationExtensions
{
    /// <summary>Requires an authenticated caller with a DPoP- or certificate-bound token (see <see cref="SenderConstrainedTokenRequirement"/>).</summary>
    public static AuthorizationPolicyBuilder RequireSenderConstrainedToken(this AuthorizationPolicyBuilder builder)
        => builder.RequireAuthenticatedUser().AddRequirements(new SenderConstrainedTokenRequirement());

    /// <summary>Protects an endpoint so only sender-constrained tokens reach it, e.g. <c>app.MapPost(...).RequireSenderConstrainedToken()</c>.</summary>
    public static TBuilder RequireSenderConstrainedToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(policy => policy.RequireSenderConstrainedToken());
}
