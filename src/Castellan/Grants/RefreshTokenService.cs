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

    /// <summary>The live (unconsumed, unexpired) refresh token behind a handle, or null.</summary>
    public async Task<PersistedGrant?> FindActiveAsync(string handle, CancellationToken cancellationToken)
    {
        if (!Tokens.ReferenceTokenService.IsHandleShaped(handle))
        {
            return null;
        }

        var grant = await grants.GetAsync(GrantHandles.KeyFor(PersistedGrantTypes.RefreshToken, handle), cancellationToken).ConfigureAwait(false);
        return grant is { Type: PersistedGrantTypes.RefreshToken, ConsumedTime: null } && grant.Expiration > time.GetUtcNow() ? grant : null;
    }

    /// <summary>RFC 7009 §2.1: revoking a refresh token revokes the grant, and with it every token of its family.</summary>
    public async Task<int> RevokeFamilyAsync(PersistedGrant grant, CancellationToken cancellationToken)
        => grant.FamilyId is { } family
            ? await grants.RemoveAllAsync(new PersistedGrantFilter { FamilyId = family }, cancellationToken).ConfigureAwait(false)
            : await grants.RemoveAsync(grant.Key, cancellationToken).ConfigureAwait(false) ? 1 : 0;

    /// <summary>The RFC 7662 view of a refresh token: who, for which client, which scopes, until when.</summary>
    public static string IntrospectionPayload(PersistedGrant grant, string issuer)
    {
        var data = AuthorizationGrantData.Deserialize(grant.Data);
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("iss", issuer);
            writer.WriteString("client_id", grant.ClientId);
            if (grant.SubjectId is not null)
            {
                writer.WriteString("sub", grant.SubjectId);
            }

            if (grant.SessionId is not null)
            {
                writer.WriteString("sid", grant.SessionId);
            }

            writer.WriteString("scope", string.Join(' ', data?.Scopes ?? []));
            writer.WriteNumber("iat", grant.CreationTime.ToUnixTimeSeconds());
            if (grant.Expiration != DateTimeOffset.MaxValue)
            {
                writer.WriteNumber("exp", grant.Expiration.ToUnixTimeSeconds());
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
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
            DPoPKeyThumbprint = user.DPoPKeyThumbprint,
            CertificateThumbprint = user.CertificateThumbprint,
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
