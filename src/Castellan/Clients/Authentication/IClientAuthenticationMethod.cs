using Castellan.Protocol;
using Microsoft.AspNetCore.Http;

namespace Castellan.Clients.Authentication;

/// <summary>
/// One way a client proves who it is (the names of RFC 7591 §2 <c>token_endpoint_auth_method</c>): how to find its
/// credentials in a request, and how to check them against the client. The token, introspection and revocation
/// endpoints authenticate through the registered methods, and discovery lists them.
/// </summary>
internal interface IClientAuthenticationMethod
{
    /// <summary>The method's registered name, e.g. <c>client_secret_basic</c>.</summary>
    string Name { get; }

    /// <summary>Whether it proves possession of a secret or key (everything but <c>none</c>): introspection and revocation take only these.</summary>
    bool Authenticates { get; }

    /// <summary>
    /// Whether its proof is the TLS connection's client certificate (RFC 8705 §2) rather than something in the
    /// request. Such a method is chosen by the client's registration, not by the request: a request names its client
    /// with <c>client_id</c> alone, as a public client's does, and a certificate may be there for token binding.
    /// </summary>
    bool UsesClientCertificate => false;

    /// <summary>
    /// The credentials this method finds in the request: null when the request does not use it, an error when it
    /// uses it badly (a malformed header, an oversized value).
    /// </summary>
    Outcome<PresentedCredentials>? Read(ClientRequest request);

    /// <summary>
    /// Whether <paramref name="presented"/> proves <paramref name="client"/>. Called with a null client too (unknown or
    /// disabled), so that the work done, and the time taken, does not tell those apart from a wrong secret.
    /// </summary>
    /// <returns>Null when it does; otherwise why not, for the log (never for the caller).</returns>
    ValueTask<string?> VerifyAsync(PresentedCredentials presented, ClientModel? client, ClientRequest request, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>What a request presents to authenticate its client, before anything is looked up.</summary>
/// <param name="Method">The method that read them (its <see cref="IClientAuthenticationMethod.Name"/>).</param>
/// <param name="Secret">The shared secret, for the secret methods.</param>
/// <param name="Assertion">The client assertion, parsed but not yet validated, for the JWT methods.</param>
/// <param name="Alternatives">
/// For a request that presents nothing but <c>client_id</c> (and perhaps a certificate): every method that could read
/// it, <see cref="Method"/> first; <see cref="ClientRequestReader.Choose"/> takes the one the client is registered for.
/// </param>
internal sealed record PresentedCredentials(string ClientId, IClientAuthenticationMethod Method, string? Secret = null,
    Microsoft.IdentityModel.JsonWebTokens.JsonWebToken? Assertion = null, IReadOnlyList<IClientAuthenticationMethod>? Alternatives = null);

/// <summary>The parts of a request the methods read: the <c>Authorization</c> header and the form.</summary>
internal readonly record struct ClientRequest(HttpRequest Http, IFormCollection Form, InputLengthRestrictions Limits)
{
    /// <summary>The connection's client certificate, read only when <see cref="MutualTlsOptions.Enabled"/>.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; init; }

    /// <summary>A form parameter sent once with a value; the request parser already refused duplicates, and an empty value counts as absent (RFC 6749 §3.1).</summary>
    public string? FormValue(string name)
    {
        var value = Form[name];
        return value.Count == 1 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;
    }
}
