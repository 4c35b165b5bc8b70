using Castellan.Protocol;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>none</c>: a public client (<see cref="Client.RequireClientSecret"/> false) names itself with <c>client_id</c>
/// and proves nothing; PKCE, exact redirect URIs and the grant's own checks protect it. Taken only when the request
/// carries no other method's credentials, and only by the token endpoint.
/// </summary>
internal sealed class NoClientAuthentication : IClientAuthenticationMethod
{
    public static readonly NoClientAuthentication Instance = new();

    public string Name => ClientAuthenticationMethods.None;

    public bool Authenticates => false;

    public Outcome<PresentedCredentials>? Read(ClientRequest request)
    {
        if (request.FormValue(OAuthParameters.ClientId) is not { } id)
        {
            return null;
        }

        return id.Length > request.Limits.ClientId ? ProtocolError.InvalidClient : new PresentedCredentials(id, this);
    }

    public ValueTask<string?> VerifyAsync(PresentedCredentials presented, ClientModel? client, ClientRequest request, DateTimeOffset now, CancellationToken cancellationToken)
        => ValueTask.FromResult(client is { Client.RequireClientSecret: false } ? null : "the client requires authentication but sent none");
}
