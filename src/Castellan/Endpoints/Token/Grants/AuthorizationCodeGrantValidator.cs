using System.Collections.Frozen;
using Castellan.Diagnostics;
using Castellan.Grants;
using Castellan.Pkce;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Stores;
using Castellan.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>
/// RFC 6749 §4.1.3 with RFC 7636 §4.6. Parameters: <c>code</c>, <c>redirect_uri</c>, <c>code_verifier</c>. The code
/// is consumed in one atomic store operation before anything else is checked, so it is spent even when a later check
/// fails; every failure is the same <c>invalid_grant</c> to the caller (the reason goes to the log).
/// </summary>
internal sealed partial class AuthorizationCodeGrantValidator(
    IPersistedGrantStore grants,
    IProfileService profiles,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<AuthorizationCodeGrantValidator> logger) : ITokenGrantValidator
{
    private static readonly ProtocolError InvalidCode = new(OAuthErrors.InvalidGrant, "The authorization code is invalid, expired or already used.");
    private static readonly ProtocolError MissingCode = ProtocolError.InvalidRequest("The code parameter is missing.");
    private static readonly ProtocolError MissingRedirectUri = ProtocolError.InvalidRequest("The redirect_uri parameter is missing.");
    private static readonly FrozenSet<string> None = FrozenSet<string>.Empty;

    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public string GrantType => GrantTypes.AuthorizationCode;

    public IReadOnlySet<string> RepeatableParameters => None;

    public async ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var code = context.Parameter(OAuthParameters.Code);
        if (code is null)
        {
            return MissingCode;
        }

        // RFC 6749 §4.1.3: required when the authorization request had one, which every request here has (the
        // authorize endpoint insists on it, OIDC Core §3.1.2.1); missing, it is invalid_request (§5.2), known
        // before the code is looked up, so the code is not spent on a malformed request.
        var redirectUri = context.Parameter(OAuthParameters.RedirectUri);
        if (redirectUri is null)
        {
            return MissingRedirectUri;
        }

        var verifier = context.Parameter(OAuthParameters.CodeVerifier);
        if (code.Length > _limits.AuthorizationCode || redirectUri.Length > _limits.RedirectUri || verifier?.Length > _limits.CodeVerifier)
        {
            return ProtocolError.InvalidRequest("A parameter of the token request is too long.");
        }

        var clientId = context.Client.Client.ClientId;
        var key = GrantHandles.KeyFor(PersistedGrantTypes.AuthorizationCode, code);
        var now = time.GetUtcNow();
        var grant = await grants.TryConsumeAsync(key, now, cancellationToken).ConfigureAwait(false);
        if (grant is null)
        {
            // Unknown, expired, or consumed before. A code presented twice means one of the two presenters is not the
            // client: revoke everything the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.5).
            var spent = await grants.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (spent is { ConsumedTime: not null, FamilyId: { } family })
            {
                var revoked = await grants.RemoveAllAsync(new PersistedGrantFilter { FamilyId = family }, cancellationToken).ConfigureAwait(false);
                CastellanTelemetry.GrantReplays.Add(1, new KeyValuePair<string, object?>("grant_type", GrantTypes.AuthorizationCode));
                LogReplay(logger, spent.ClientId, clientId, revoked);
            }

            return Fail("code unknown, expired or already redeemed");
        }

        if (grant.Type != PersistedGrantTypes.AuthorizationCode || AuthorizationGrantData.Deserialize(grant.Data) is not { } data || grant.SubjectId is null)
        {
            return Fail("stored code is unreadable");
        }

        // RFC 6749 §4.1.3: issued to this client, and redirect_uri identical to the one at the authorize endpoint.
        if (!string.Equals(grant.ClientId, clientId, StringComparison.Ordinal))
        {
            return Fail($"code of client '{grant.ClientId}' presented by client '{clientId}'");
        }

        if (!string.Equals(redirectUri, data.RedirectUri, StringComparison.Ordinal))
        {
            return Fail("redirect_uri differs from the authorization request");
        }

        if (PkceValidator.VerifyRedemption(data.CodeChallenge, data.CodeChallengeMethod, verifier) is { } pkce)
        {
            return new ProtocolError(OAuthErrors.InvalidGrant, pkce.Description, pkce.LogDetail);
        }

        // RFC 9449 §10.1: a code requested with dpop_jkt is redeemed only with a proof by that key. The code is
        // consumed either way: like a wrong PKCE verifier, a wrong key means the presenter may not be the client.
        if (data.DPoPKeyThumbprint is { } jkt && !string.Equals(jkt, context.DPoPKeyThumbprint, StringComparison.Ordinal))
        {
            return new ProtocolError(OAuthErrors.InvalidGrant, "The authorization code is bound to another DPoP key (dpop_jkt).",
                context.DPoPKeyThumbprint is null ? "code bound by dpop_jkt redeemed without a DPoP proof" : "code bound by dpop_jkt redeemed with a proof from another key");
        }

        if (!await profiles.IsActiveAsync(grant.SubjectId, context.Client.Client, ProfileCallers.IdentityToken, cancellationToken).ConfigureAwait(false))
        {
            return Fail("the user is no longer active");
        }

        // The scopes and resources as granted at the authorize endpoint (and narrowed by consent), re-resolved against
        // the configuration in force now.
        var granted = ScopeValidator.Validate(string.Join(' ', data.Scopes), data.ResourceIndicators, context.Client.Model, context.Resources,
            context.Issuer, int.MaxValue, allowIdentityScopes: true);
        if (granted.IsError)
        {
            return new ProtocolError(OAuthErrors.InvalidGrant, "The granted scopes are no longer available.", granted.Error!.Description);
        }

        return new ValidatedAuthorizationCodeRequest(context.Client, context.Issuer, granted.Value!,
            // The code's dpop_jkt is checked above and binds nothing further: whether refresh tokens are bound is the
            // token response's decision (a public client's are, to the proof's key).
            UserGrant.From(grant, grant.SubjectId, grant.FamilyId ?? GrantHandles.NewFamilyId(), data) with { DPoPKeyThumbprint = null }, key);
    }

    private static ProtocolError Fail(string detail) => new(OAuthErrors.InvalidGrant, InvalidCode.Description, detail);

    [LoggerMessage(2010, LogLevel.Warning, "An authorization code of client {CodeClientId} was presented again (by client {PresentingClientId}); its grant family was revoked ({Revoked} grants).", EventName = "AuthorizationCodeReplayed")]
    private static partial void LogReplay(ILogger logger, string codeClientId, string presentingClientId, int revoked);
}
