using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Castellan.ApiProtection;

/// <summary>
/// When a request is authenticated but lacks a required scope, answers 403 with
/// <c>WWW-Authenticate: Bearer error="insufficient_scope", scope="..."</c> (RFC 6750 §3.1), so the client knows
/// which scope to ask for.
/// </summary>
internal sealed class InsufficientScopeResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && authorizeResult.AuthorizationFailure is { } failure)
        {
            var scopes = new List<string>();
            foreach (var requirement in failure.FailedRequirements)
            {
                if (requirement is ScopeRequirement scope)
                {
                    scopes.AddRange(scope.Scopes);
                }
            }

            if (scopes.Count > 0)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                // RFC 9449 §7.1: the challenge names the scheme the token was sent with.
                var scheme = context.Features.Get<SenderConstraintFeature>()?.DPoPKeyThumbprint is null ? "Bearer" : "DPoP";
                context.Response.Headers.WWWAuthenticate =
                    $"{scheme} error=\"insufficient_scope\", error_description=\"The access token lacks a required scope.\", scope=\"{string.Join(' ', scopes.Distinct())}\"";
                return Task.CompletedTask;
            }
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
