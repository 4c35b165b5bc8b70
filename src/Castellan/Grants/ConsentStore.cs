using System.Text.Json;
using Castellan.Stores;

namespace Castellan.Grants;

/// <summary>Remembered consents: per subject and client, the scopes the user agreed to, in the grant store.</summary>
internal sealed class ConsentStore(IPersistedGrantStore grants, TimeProvider time)
{
    public async Task<IReadOnlySet<string>?> GetAsync(string subjectId, string clientId, CancellationToken cancellationToken)
    {
        var grant = await grants.GetAsync(KeyFor(subjectId, clientId), cancellationToken).ConfigureAwait(false);
        if (grant is null || grant.Expiration <= time.GetUtcNow())
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(grant.Data, GrantDataJsonContext.Default.StringArray)?.ToHashSet(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public Task StoreAsync(string subjectId, Client client, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return grants.StoreAsync(new PersistedGrant
        {
            Key = KeyFor(subjectId, client.ClientId),
            Type = PersistedGrantTypes.UserConsent,
            ClientId = client.ClientId,
            SubjectId = subjectId,
            CreationTime = now,
            Expiration = client.ConsentLifetime is { } seconds ? now.AddSeconds(seconds) : DateTimeOffset.MaxValue,
            Data = JsonSerializer.Serialize(scopes.ToArray(), GrantDataJsonContext.Default.StringArray),
        }, cancellationToken);
    }

    public Task<bool> RemoveAsync(string subjectId, string clientId, CancellationToken cancellationToken)
        => grants.RemoveAsync(KeyFor(subjectId, clientId), cancellationToken);

    private static string KeyFor(string subjectId, string clientId)
        => GrantHandles.KeyFor(PersistedGrantTypes.UserConsent, subjectId + "\n" + clientId);
}
