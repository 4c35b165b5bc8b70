using Castellan.Endpoints.Token;
using Castellan.Stores;

namespace Castellan.Grants;

/// <summary>
/// Refresh tokens: 256 random bits for the client, a hash in the grant store with the grant they continue. Each
/// belongs to the family of the authorization it came from, so a replay revokes them all together.
/// </summary>
internal sealed class RefreshTokenService(IPersistedGrantStore grants, TimeProvider time)
{
    public async Task<string> CreateAsync(Client client, UserGrant user, CancellationToken cancellationToken)
    {
        var handle = GrantHandles.New();
        await grants.StoreAsync(NewGrant(handle, client, user, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        return handle;
    }

    /// <summary>The stored form of a new refresh token continuing <paramref name="user"/>'s grant.</summary>
    public static PersistedGrant NewGrant(string handle, Client client, UserGrant user, DateTimeOffset now) => new()
    {
        Key = GrantHandles.KeyFor(PersistedGrantTypes.RefreshToken, handle),
        Type = PersistedGrantTypes.RefreshToken,
        ClientId = client.ClientId,
        SubjectId = user.SubjectId,
        SessionId = user.SessionId,
        FamilyId = user.FamilyId,
        CreationTime = now,
        Expiration = Expiration(client, user.AuthorizedAt, now),
        Data = new AuthorizationGrantData
        {
            Scopes = [.. user.GrantedScopes],
            ResourceIndicators = [.. user.ResourceIndicators],
            AuthTime = user.AuthTime.ToUnixTimeSeconds(),
            Amr = [.. user.Amr],
            Acr = user.Acr,
            Nonce = user.Nonce,
            AuthorizedAt = user.AuthorizedAt.ToUnixTimeSeconds(),
        }.Serialize(),
    };

    /// <summary>
    /// Absolute: <see cref="Client.AbsoluteRefreshTokenLifetime"/> after the authorization. Sliding:
    /// <see cref="Client.SlidingRefreshTokenLifetime"/> from now, never past the absolute end (none when the absolute
    /// lifetime is 0).
    /// </summary>
    public static DateTimeOffset Expiration(Client client, DateTimeOffset authorizedAt, DateTimeOffset now)
    {
        var absoluteEnd = client.AbsoluteRefreshTokenLifetime > 0 ? authorizedAt.AddSeconds(client.AbsoluteRefreshTokenLifetime) : DateTimeOffset.MaxValue;
        if (client.RefreshTokenExpiration == TokenExpiration.Absolute)
        {
            return absoluteEnd;
        }

        var sliding = now.AddSeconds(client.SlidingRefreshTokenLifetime);
        return sliding < absoluteEnd ? sliding : absoluteEnd;
    }
}
