using Castellan.Protocol;

namespace Castellan.Clients.Authentication;

/// <summary>
/// Finds the one client authentication method a request uses, among those registered (RFC 6749 §2.3: a client
/// MUST NOT use more than one per request), and reads its credentials.
/// </summary>
internal sealed class ClientRequestReader(IEnumerable<IClientAuthenticationMethod> registered)
{
    public static readonly ProtocolError NoCredentials = new(OAuthErrors.InvalidClient, "No client authentication was included.");

    private static readonly ProtocolError TwoMethods = ProtocolError.InvalidRequest("The client used more than one authentication method.");

    private static readonly ProtocolError TwoAuthorizationHeaders = ProtocolError.InvalidRequest("The Authorization header was sent more than once.");

    // `none` is what is left when nothing else is presented, so it is asked last and only then.
    private readonly IClientAuthenticationMethod[] _proving = [.. registered.Where(m => m.Authenticates)];
    private readonly IClientAuthenticationMethod? _none = registered.FirstOrDefault(m => !m.Authenticates);

    /// <summary>The registered methods, those that prove a secret or key first.</summary>
    public IReadOnlyList<IClientAuthenticationMethod> Methods => _none is null ? _proving : [.. _proving, _none];

    /// <summary>The names of the methods an endpoint accepts, for discovery.</summary>
    public string[] Names(bool includeNone) => [.. Methods.Where(m => includeNone || m.Authenticates).Select(m => m.Name)];

    /// <param name="allowNone">Whether a public client's bare <c>client_id</c> is accepted (the token and revocation endpoints).</param>
    public Outcome<PresentedCredentials> Read(ClientRequest request, bool allowNone)
    {
        if (request.Http.Headers.Authorization.Count > 1)
        {
            return TwoAuthorizationHeaders;
        }

        Outcome<PresentedCredentials>? found = null;
        foreach (var method in _proving)
        {
            if (method.Read(request) is not { } read)
            {
                continue;
            }

            if (found is not null)
            {
                return TwoMethods;
            }

            found = read;
        }

        if (found is { } presented)
        {
            return presented;
        }

        return allowNone && _none?.Read(request) is { } none ? none : NoCredentials;
    }
}
