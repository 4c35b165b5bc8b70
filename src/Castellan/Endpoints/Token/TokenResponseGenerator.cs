using Castellan.Keys;
using Castellan.Protocol;
using Castellan.Tokens;

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
internal sealed class TokenResponseGenerator(JwtAccessTokenCreator jwtCreator, ReferenceTokenService referenceTokens, KeyRingProvider keys, TimeProvider time)
{
    private static readonly ProtocolError NoKeyForAlgorithm = ProtocolError.InvalidScope(
        "The requested API accepts no signing algorithm this server has a key for.");

    public async ValueTask<Outcome<TokenResponse>> GenerateAsync(ValidatedTokenRequest request, CancellationToken cancellationToken)
    {
        var client = request.Client.Client;
        var descriptor = new AccessTokenDescriptor
        {
            Issuer = request.Issuer,
            ClientId = client.ClientId,
            Subject = request.Subject,
            SessionId = request.SessionId,
            Audiences = request.Resources.Audiences,
            Scopes = request.Resources.Scopes,
            IssuedAt = time.GetUtcNow(),
            LifetimeSeconds = client.AccessTokenLifetime,
            AllowedSigningAlgorithms = request.Resources.AllowedSigningAlgorithms,
            Claims = request.Client.Model.TokenClaims,
        };

        string? token;
        if (client.AccessTokenType == AccessTokenType.Reference)
        {
            token = await referenceTokens.CreateAsync(descriptor, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
            token = jwtCreator.Create(descriptor, ring);
        }

        if (token is null)
        {
            return NoKeyForAlgorithm;
        }

        return new TokenResponse(token, client.AccessTokenLifetime, JwtAccessTokenCreator.JoinScopes(request.Resources.Scopes));
    }
}
