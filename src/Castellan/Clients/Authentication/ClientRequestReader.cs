using Castellan.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Clients.Authentication;

/// <summary>
/// Finds the one client authentication method a request uses, among those registered (RFC 6749 §2.3: a client
/// MUST NOT use more than one per request), and reads its credentials.
/// </summary>
internal sealed class ClientRequestReader
{
    public static readonly ProtocolError NoCredentials = new(OAuthErrors.InvalidClient, "No client authentication was included.");

    private static readonly ProtocolError TwoMethods = ProtocolError.InvalidRequest("The client used more than one authentication method.");

    private static readonly ProtocolError TwoAuthorizationHeaders = ProtocolError.InvalidRequest("The Authorization header was sent more than once.");

    // Methods whose credentials are in the request decide by themselves; the certificate methods and `none` see
    // only a client_id, so they are asked when nothing else is presented, and the client's registration picks one.
    private readonly IClientAuthenticationMethod[] _proving;
    private readonly IClientAuthenticationMethod[] _certificate;
    private readonly IClientAuthenticationMethod? _none;
    private readonly IClientAuthenticationMethod[] _all;
    private readonly InputLengthRestrictions _limits;
    private readonly bool _readCertificates;

    public ClientRequestReader(IEnumerable<IClientAuthenticationMethod> registered, IOptions<CastellanOptions> options)
    {
        _all = [.. registered];
        _readCertificates = options.Value.MutualTls.Enabled;
        _limits = options.Value.InputLengthRestrictions;
        _proving = [.. _all.Where(m => m.Authenticates && !m.UsesClientCertificate)];
        _certificate = _readCertificates ? [.. _all.Where(m => m.UsesClientCertificate)] : [];
        _none = _all.FirstOrDefault(m => !m.Authenticates);
    }

    /// <summary>The methods in force (the certificate ones only with mutual TLS on), those that prove a secret or key first.</summary>
    public IReadOnlyList<IClientAuthenticationMethod> Methods => _none is null ? [.. _proving, .. _certificate] : [.. _proving, .. _certificate, _none];

    /// <summary>The names of the methods an endpoint accepts, for discovery.</summary>
    public string[] Names(bool includeNone) => [.. Methods.Where(m => includeNone || m.Authenticates).Select(m => m.Name)];

    /// <summary>
    /// Every registered method's name, in force or not, for configuration validation: a client registered for
    /// <c>tls_client_auth</c> stays valid while mutual TLS is off (it then cannot use that method).
    /// </summary>
    public string[] RegisteredNames() => [.. _all.Select(m => m.Name)];

    /// <summary>The parts of <paramref name="http"/> the methods read; the client certificate only with mutual TLS on.</summary>
    public async ValueTask<ClientRequest> CreateRequestAsync(HttpRequest http, IFormCollection form, CancellationToken cancellationToken)
    {
        var request = new ClientRequest(http, form, _limits);
        if (!_readCertificates)
        {
            return request;
        }

        // Kestrel has the certificate from the handshake where the endpoint asks for one (or the forwarding
        // middleware set it); where it delays the request, this renegotiates (HTTP/1.1 only).
        try
        {
            var certificate = await http.HttpContext.Connection.GetClientCertificateAsync(cancellationToken).ConfigureAwait(false);
            return request with { Certificate = certificate };
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
        {
            // A renegotiation the client refused or the protocol cannot do (HTTP/2): the request has no certificate,
            // which is the client's matter (invalid_client if it needed one), not a server failure.
            return request;
        }
    }

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

        PresentedCredentials? first = null;
        List<IClientAuthenticationMethod>? alternatives = null;
        foreach (var method in allowNone && _none is not null ? [.. _certificate, _none] : _certificate)
        {
            if (method.Read(request) is not { } read)
            {
                continue;
            }

            if (read.IsError)
            {
                return read;
            }

            if (first is null)
            {
                first = read.Value!;
            }
            else
            {
                (alternatives ??= [first.Method]).Add(method);
            }
        }

        return first is null ? NoCredentials : first with { Alternatives = alternatives };
    }

    /// <summary>
    /// Of the methods that could read a bare <c>client_id</c>, the first the client is registered for (the
    /// certificate ones before <c>none</c>); the first one there was when the client is unknown or allows none of
    /// them, whose check then fails as usual.
    /// </summary>
    public static PresentedCredentials Choose(PresentedCredentials presented, ClientModel? client)
    {
        if (presented.Alternatives is not { } alternatives || client is null)
        {
            return presented;
        }

        foreach (var method in alternatives)
        {
            if (client.AuthenticationMethods.Contains(method.Name))
            {
                return presented with { Method = method };
            }
        }

        return presented;
    }
}
