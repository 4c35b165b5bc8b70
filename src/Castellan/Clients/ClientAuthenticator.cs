using Castellan.Clients.Authentication;
using Castellan.Protocol;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;

namespace Castellan.Clients;

/// <summary>A client whose credentials checked out, and how it authenticated.</summary>
internal sealed record ValidatedClient(Client Client, ClientModel Model, string AuthenticationMethod)
{
    /// <summary>The connection's client certificate (with mutual TLS on), whatever the method: tokens may be bound to it (RFC 8705 §3).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; init; }
}

/// <summary>
/// Authenticates the client of a token or revocation request with the registered methods
/// (<see cref="IClientAuthenticationMethod"/>). Every failure looks the same to the caller (<c>invalid_client</c>);
/// the reason goes to the log only.
/// </summary>
internal sealed class ClientAuthenticator(IClientStore clients, ClientRequestReader reader, TimeProvider time)
{
    public async ValueTask<Outcome<ValidatedClient>> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken cancellationToken)
    {
        var clientRequest = await reader.CreateRequestAsync(request, form, cancellationToken).ConfigureAwait(false);
        var read = reader.Read(clientRequest, allowNone: true);
        if (read.IsError)
        {
            return read.Error!;
        }

        var client = await clients.FindClientByIdAsync(read.Value!.ClientId, cancellationToken).ConfigureAwait(false);
        var model = client is { Enabled: true } ? ClientModel.For(client) : null;

        // A bare client_id over a connection with a certificate: the client's registration says which method it is.
        var presented = ClientRequestReader.Choose(read.Value, model);

        // Verified even for an unknown or disabled client (against a decoy), so the answer's timing does not tell
        // them from a known client with a wrong secret.
        var failure = await presented.Method.VerifyAsync(presented, model, clientRequest, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (model is null)
        {
            return Fail(client is null ? $"unknown client '{LogSafe(presented.ClientId)}'" : $"client '{client.ClientId}' is disabled");
        }

        if (failure is not null)
        {
            return Fail($"client '{model.Client.ClientId}' ({presented.Method.Name}): {failure}");
        }

        return model.AuthenticationMethods.Contains(presented.Method.Name)
            ? new ValidatedClient(model.Client, model, presented.Method.Name) { Certificate = clientRequest.Certificate }
            : Fail($"client '{model.Client.ClientId}' may not authenticate with {presented.Method.Name}; it is allowed {string.Join(", ", model.AuthenticationMethods.Order(StringComparer.Ordinal))}");
    }

    /// <summary>Unknown ids come from the caller: cap and strip them before they reach a log line.</summary>
    public static string LogSafe(string value)
        => new(value.AsSpan(0, Math.Min(value.Length, 64)).ToArray().Select(c => char.IsControl(c) ? '?' : c).ToArray());

    public static ProtocolError Fail(string detail)
        => new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, detail);
}
