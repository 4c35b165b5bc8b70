using Castellan.Grants;
using Castellan.Resources;
using Castellan.Sessions;
using Castellan.Stores;

namespace Castellan.Endpoints.Authorize;

/// <summary>
/// Issues authorization codes: 256 random bits for the client, a hash of them in the grant store with everything the
/// token endpoint checks at redemption (client, redirect URI, PKCE challenge, nonce, session) and a new grant family,
/// so a replay can revoke whatever the first redemption issued (RFC 6749 §4.1.2).
/// </summary>
internal sealed class AuthorizationCodeIssuer(IPersistedGrantStore grants, TimeProvider time)
{
    public async Task<string> IssueAsync(ValidatedAuthorizeRequest request, UserSession session, GrantedResources granted, CancellationToken cancellationToken)
    {
        var code = GrantHandles.New();
        var now = time.GetUtcNow();
        var data = new AuthorizationGrantData
        {
            Scopes = [.. granted.Scopes],
            ResourceIndicators = [.. request.ResourceIndicators],
            AuthTime = session.AuthTime.ToUnixTimeSeconds(),
            Amr = [.. session.AuthenticationMethods],
            AuthorizedAt = now.ToUnixTimeSeconds(),
            RedirectUri = request.Redirect.RedirectUri,
            CodeChallenge = request.CodeChallenge,
            CodeChallengeMethod = request.CodeChallengeMethod,
            Nonce = request.Nonce,
            DPoPKeyThumbprint = request.DPoPKeyThumbprint,
        };
        await grants.StoreAsync(new PersistedGrant
        {
            Key = GrantHandles.KeyFor(PersistedGrantTypes.AuthorizationCode, code),
            Type = PersistedGrantTypes.AuthorizationCode,
            ClientId = request.Client.ClientId,
            SubjectId = session.SubjectId,
            SessionId = session.SessionId,
            FamilyId = GrantHandles.NewFamilyId(),
            CreationTime = now,
            Expiration = now.AddSeconds(request.Client.AuthorizationCodeLifetime),
            Data = data.Serialize(),
        }, cancellationToken).ConfigureAwait(false);
        return code;
    }
}
