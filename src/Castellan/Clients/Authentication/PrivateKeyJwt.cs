using Castellan.Hosting;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>private_key_jwt</c> (RFC 7523 §2.2, OpenID Connect Core §9): the client signs a short-lived JWT with its private
/// key and sends it as <c>client_assertion</c>; the server checks it with the public key registered for the client
/// (a <see cref="SecretTypes.JsonWebKey"/> secret) or published at its <see cref="Client.JwksUri"/>. No secret the
/// server holds can authenticate the client, so a leak of the server's configuration or database gives none away
/// (RFC 9700 §2.5). The checks of the assertion itself are <see cref="ClientAssertionMethod"/>'s.
/// </summary>
internal sealed class PrivateKeyJwt(
    IClientJwksFetcher jwks,
    IReplayCache replays,
    IssuerResolver issuers,
    IOptions<CastellanOptions> options) : ClientAssertionMethod(replays, issuers, options)
{
    public override string Name => Protocol.ClientAuthenticationMethods.PrivateKeyJwt;

    protected override bool UsesHmac => false;

    protected override string NoKeys => "the client has no public key (a JWK secret or a JwksUri)";

    protected override bool CanRefresh(ClientModel client) => client.Client.JwksUri is not null;

    protected override async ValueTask<List<SecurityKey>> GetKeysAsync(ClientModel client, string algorithm, DateTimeOffset now, bool refresh, CancellationToken cancellationToken)
    {
        List<SecurityKey> keys = [.. client.AssertionKeys.Where(k => k.Expiration is null || k.Expiration > now).Select(k => (SecurityKey)k.Key)];
        if (client.Client.JwksUri is { } published)
        {
            keys.AddRange(await jwks.GetKeysAsync(published, refresh, cancellationToken).ConfigureAwait(false));
        }

        return keys;
    }
}
