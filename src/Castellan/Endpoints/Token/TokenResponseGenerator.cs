using Castellan.Grants;
using Castellan.Keys;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Tokens;
using Castellan.Users;

namespace Castellan.Endpoints.Token;

/// <summary>
/// RFC 6749 §5.1 successful response. <see cref="TokenType"/> is <c>Bearer</c> unless the token is bound to a key
/// (<c>DPoP</c>, RFC 9449 §5); <see cref="IdToken"/> and <see cref="RefreshToken"/> are set by the grants that
/// issue them.
/// </summary>
internal sealed record TokenResponse(string AccessToken, int ExpiresIn, string Scope, string? JwtId = null)
{
    public string TokenType { get; init; } = TokenTypes.Bearer;

    public string? IdToken { get; init; }

    public string? RefreshToken { get; init; }
}

/// <summary>Turns a validated request into tokens. Never touches HttpContext.</summary>
internal sealed class TokenResponseGenerator(
    JwtAccessTokenCreator jwtCreator,
    IdentityTokenCreator identityTokens,
    ReferenceTokenService referenceTokens,
    RefreshTokenService refreshTokens,
    IProfileService profiles,
    ResourceIndexProvider resources,
    KeyRingProvider keys,
    Stores.IPersistedGrantStore grants,
    TimeProvider time)
{

    private static readonly ProtocolError NoKeyForAlgorithm = ProtocolError.InvalidScope(
        "The requested API accepts no signing algorithm this server has a key for.");

    public async ValueTask<Outcome<TokenResponse>> GenerateAsync(ValidatedTokenRequest request, CancellationToken cancellationToken)
    {
        var client = request.Client.Client;
        var user = request as ValidatedUserTokenRequest;
        var now = time.GetUtcNow();
        ResourceIndex? index = null;
        IReadOnlyList<TokenClaim> claims = request.Client.Model.TokenClaims;
        if (user is not null)
        {
            index = await resources.GetAsync(cancellationToken).ConfigureAwait(false);
            if (UserClaims.AccessTokenClaimTypes(request.Resources.Scopes, request.Resources.Audiences, index) is { } types)
            {
                var profile = await profiles.GetProfileClaimsAsync(new ProfileRequest(user.Subject, client, types, ProfileCallers.AccessToken), cancellationToken).ConfigureAwait(false);
                claims = [.. claims, .. UserClaims.ToTokenClaims(profile, types)];
            }
        }

        var descriptor = new AccessTokenDescriptor
        {
            Issuer = request.Issuer,
            ClientId = client.ClientId,
            Subject = request.Subject,
            SessionId = request.SessionId,
            AuthTime = user?.User.AuthTime,
            Amr = user?.User.Amr ?? [],
            Acr = user?.User.Acr,
            Audiences = request.Resources.Audiences,
            Scopes = request.Resources.Scopes,
            IssuedAt = now,
            LifetimeSeconds = client.AccessTokenLifetime,
            AllowedSigningAlgorithms = request.Resources.AllowedSigningAlgorithms,
            Claims = claims,
            GrantFamilyId = user?.User.FamilyId,
            Confirmation = Confirmation(request.DPoPKeyThumbprint, request.CertificateThumbprint),
        };

        string? token;
        KeyRing? ring = null;
        if (client.AccessTokenType == AccessTokenType.Reference)
        {
            token = await referenceTokens.CreateAsync(descriptor, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
            token = jwtCreator.Create(descriptor, ring);
        }

        if (token is null)
        {
            return NoKeyForAlgorithm;
        }

        var response = new TokenResponse(token, client.AccessTokenLifetime, JwtAccessTokenCreator.JoinScopes(request.Resources.Scopes))
        {
            // RFC 9449 §5: token_type DPoP tells the client the token is bound and must be sent with proofs.
            TokenType = request.DPoPKeyThumbprint is null ? TokenTypes.Bearer : Castellan.Security.DPoPConstants.TokenType,
        };
        if (user is null)
        {
            return response;
        }

        string? idToken = null;
        if (request.Resources.Scopes.Contains(StandardScopes.OpenId))
        {
            IReadOnlyList<TokenClaim> identityClaims = [];
            if (client.AlwaysIncludeUserClaimsInIdToken)
            {
                var types = UserClaims.IdentityClaimTypes(request.Resources.Scopes, index!);
                var profile = await profiles.GetProfileClaimsAsync(new ProfileRequest(user.Subject, client, types, ProfileCallers.IdentityToken), cancellationToken).ConfigureAwait(false);
                identityClaims = UserClaims.ToTokenClaims(profile, types);
            }

            ring ??= await keys.GetAsync(cancellationToken).ConfigureAwait(false);
            idToken = identityTokens.Create(new IdentityTokenDescriptor
            {
                Issuer = request.Issuer,
                ClientId = client.ClientId,
                Subject = user.Subject,
                IssuedAt = now,
                LifetimeSeconds = client.IdentityTokenLifetime,
                AuthTime = user.User.AuthTime,
                // OIDC Core §12.2 (errata): a refreshed id_token may omit the nonce; it answers no authentication request.
                Nonce = request is ValidatedRefreshTokenRequest ? null : user.User.Nonce,
                SessionId = user.User.SessionId,
                Acr = user.User.Acr,
                Amr = user.User.Amr,
                AccessToken = token,
                Claims = identityClaims,
            }, ring);
        }

        var refreshToken = user.RefreshToken;
        if (user.CreateRefreshToken)
        {
            // RFC 9449 §5: a public client's refresh token is bound to the proof's key, since it has no other
            // sender constraint; a confidential client's is already bound to its client authentication.
            // RFC 8705 §4 likewise for the client certificate of a public client.
            var grant = client.RequireClientSecret
                ? user.User
                : user.User with { DPoPKeyThumbprint = request.DPoPKeyThumbprint, CertificateThumbprint = request.CertificateThumbprint };
            refreshToken = await refreshTokens.CreateAsync(client, grant, cancellationToken).ConfigureAwait(false);
        }

        if (request is ValidatedAuthorizationCodeRequest code && (refreshToken is not null || client.AccessTokenType == AccessTokenType.Reference)
            && await grants.GetAsync(code.CodeKey, cancellationToken).ConfigureAwait(false) is null)
        {
            // A replay of this code revoked the family (its consumed record with it) while this redemption was storing
            // tokens, which that revocation may have missed: revoke again, so what this response carries is revoked
            // just as it would be had the replay come a moment later (RFC 6749 §4.1.2).
            await grants.RemoveAllAsync(new Stores.PersistedGrantFilter { FamilyId = user.User.FamilyId }, cancellationToken).ConfigureAwait(false);
        }

        return response with { IdToken = idToken, RefreshToken = refreshToken };
    }

    /// <summary>
    /// The <c>cnf</c> object: <c>jkt</c> for a DPoP key (RFC 9449 §6.1), <c>x5t#S256</c> for a client certificate
    /// (RFC 8705 §3.1), both when both apply (RFC 7800 §3.1 lets one confirmation name several proofs). Thumbprints
    /// are base64url, so they need no JSON escaping.
    /// </summary>
    private static string? Confirmation(string? jkt, string? x5t)
        => (jkt, x5t) switch
        {
            (null, null) => null,
            (not null, null) => "{\"jkt\":\"" + jkt + "\"}",
            (null, not null) => "{\"" + Castellan.Security.CertificateThumbprint.ConfirmationMember + "\":\"" + x5t + "\"}",
            _ => "{\"jkt\":\"" + jkt + "\",\"" + Castellan.Security.CertificateThumbprint.ConfirmationMember + "\":\"" + x5t + "\"}",
        };
}
