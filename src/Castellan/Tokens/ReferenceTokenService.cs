using System.Security.Cryptography;
using System.Text;
using Castellan.Stores;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tokens;

/// <summary>
/// Reference access tokens: the client gets 256 random bits (base64url); the store keeps only a hash of them,
/// with the same RFC 9068 claim set a JWT would carry.
/// </summary>
internal sealed class ReferenceTokenService(IPersistedGrantStore grants)
{
    /// <summary>43 characters: 32 bytes base64url without padding.</summary>
    public const int HandleLength = 43;

    public async Task<string> CreateAsync(AccessTokenDescriptor descriptor, CancellationToken cancellationToken)
    {
        var handle = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await grants.StoreAsync(new PersistedGrant
        {
            Key = KeyFor(handle),
            Type = PersistedGrantTypes.ReferenceToken,
            ClientId = descriptor.ClientId,
            SubjectId = descriptor.Subject,
            SessionId = descriptor.SessionId,
            FamilyId = descriptor.GrantFamilyId,
            CreationTime = descriptor.IssuedAt,
            Expiration = descriptor.IssuedAt.AddSeconds(descriptor.LifetimeSeconds),
            Data = JwtAccessTokenCreator.WritePayload(descriptor),
        }, cancellationToken).ConfigureAwait(false);
        return handle;
    }

    /// <returns>The stored grant for a handle, or null when the handle is malformed or unknown.</returns>
    public Task<PersistedGrant?> FindAsync(string handle, CancellationToken cancellationToken)
        => IsHandleShaped(handle) ? grants.GetAsync(KeyFor(handle), cancellationToken) : Task.FromResult<PersistedGrant?>(null);

    public Task<bool> RemoveAsync(string handle, CancellationToken cancellationToken)
        => IsHandleShaped(handle) ? grants.RemoveAsync(KeyFor(handle), cancellationToken) : Task.FromResult(false);

    public static bool IsHandleShaped(string value)
        => value.Length == HandleLength && value.AsSpan().IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    internal static string KeyFor(string handle)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(handle), hash);
        return PersistedGrantTypes.ReferenceToken + ":" + Base64UrlEncoder.Encode(hash.ToArray());
    }
}
