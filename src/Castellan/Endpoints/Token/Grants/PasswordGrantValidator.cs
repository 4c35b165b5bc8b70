using System.Collections.Frozen;
using Castellan.Grants;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Sessions;
using Castellan.Users;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>
/// RFC 6749 §4.3. Parameters: <c>username</c>, <c>password</c>, <c>scope</c>. Only for clients that list
/// <c>password</c> in their grant types: RFC 9700 §2.4 says it MUST NOT be used, as the client sees the password and
/// no second factor fits. Failed attempts count against the same per-account limit as the login page.
/// </summary>
internal sealed class PasswordGrantValidator(IUserStore users, IProfileService profiles, LoginThrottle throttle, TimeProvider time, IOptions<CastellanOptions> options)
    : ITokenGrantValidator
{
    private static readonly ProtocolError InvalidCredentials = new(OAuthErrors.InvalidGrant, "The username or password is wrong.");
    private static readonly ProtocolError Throttled = new(OAuthErrors.InvalidGrant, "Too many failed attempts; try again later.");

    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public string GrantType => GrantTypes.Password;

    public IReadOnlySet<string> RepeatableParameters => FrozenSet.Create(StringComparer.Ordinal, OAuthParameters.Resource);

    public async ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var username = context.Parameter(OAuthParameters.Username);
        var password = context.Parameter(OAuthParameters.Password);
        if (username is null || password is null)
        {
            return ProtocolError.InvalidRequest("The username and password parameters are required.");
        }

        if (username.Length > _limits.Username || password.Length > _limits.Password)
        {
            return ProtocolError.InvalidRequest("A parameter of the token request is too long.");
        }

        // The caller is the client's server, not the user's browser: failures count per account (the limit the login
        // page shares), not per client, so one user's mistakes do not lock the client out for everyone.
        var clientKey = "password-grant:" + context.Client.Client.ClientId + ":" + username.ToUpperInvariant();
        if (throttle.RetryAfter(username, clientKey) is not null)
        {
            return Throttled;
        }

        var user = await users.ValidateCredentialsAsync(username, password, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            throttle.RecordFailure(username, clientKey);
            return InvalidCredentials;
        }

        if (!user.IsActive || !await profiles.IsActiveAsync(user.SubjectId, context.Client.Client, ProfileCallers.AccessToken, cancellationToken).ConfigureAwait(false))
        {
            return InvalidCredentials;
        }

        throttle.RecordSuccess(username);
        var granted = ScopeValidator.Validate(context.Parameter(OAuthParameters.Scope), context.ResourceIndicators(), context.Client.Model, context.Resources,
            context.Issuer, _limits.Scope, allowIdentityScopes: true);
        if (granted.IsError)
        {
            return granted.Error!;
        }

        var now = time.GetUtcNow();
        return new ValidatedPasswordRequest(context.Client, context.Issuer, granted.Value!, new UserGrant
        {
            SubjectId = user.SubjectId,
            FamilyId = GrantHandles.NewFamilyId(),
            AuthTime = now,
            Amr = [AuthenticationMethods.Password],
            AuthorizedAt = now,
            ResourceIndicators = context.ResourceIndicators(),
            GrantedScopes = granted.Value!.Scopes,
        });
    }
}
