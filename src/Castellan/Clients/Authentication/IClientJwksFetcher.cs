using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>The public keys clients publish at their <see cref="Client.JwksUri"/>, fetched and cached (<see cref="CastellanOptions.ClientJwks"/>).</summary>
internal interface IClientJwksFetcher
{
    /// <summary>
    /// The public signing keys at <paramref name="jwksUri"/>: from the cache while it is fresh, fetched otherwise.
    /// <paramref name="refresh"/> asks for a fetch even when the cache is fresh (an assertion named a key it does not
    /// have), granted at most once per <see cref="ClientJwksOptions.MinimumRefreshInterval"/> per URI.
    /// </summary>
    /// <returns>The keys; empty when the URI could not be fetched and nothing usable is cached. Never throws for a bad or unreachable URI.</returns>
    ValueTask<IReadOnlyList<JsonWebKey>> GetKeysAsync(string jwksUri, bool refresh, CancellationToken cancellationToken);
}
