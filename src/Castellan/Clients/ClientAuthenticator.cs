using Castellan.Clients.Authentication;
using Castellan.Protocol;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Clients;

/// <summary>A client whose credentials checked out, and how it authenticated.</summary>
internal sealed record ValidatedClient(Client Client, ClientModel Model, string AuthenticationMethod);

/// <summary>
/// Authenticates the client of a token or revocation request with the registered methods
/// (<see cref="IClientAuthenticationMethod"/>). Every failure looks the same to the caller (<c>invalid_client</c>);
/// the reason goes to the log only.
/// </summary>
internal sealed class ClientAuthenticator(IClientStore clients, ClientRequestReader reader, TimeProvider time, IOptions<CastellanOptions> options)
{
    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public async ValueTask<Outcome<ValidatedClient>> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken cancellationToken)
    {
        var clientRequest = new ClientRequest(request, form, _limits);
        var read = reader.Read(clientRequest, allowNone: true);
        if (read.IsError)
        {
            return read.Error!;
        }

        var presented = read.Value!;
        var client = await clients.FindClientByIdAsync(presented.ClientId, cancellationToken).ConfigureAwait(false);
        var model = client is { Enabled: true } ? ClientModel.For(client) : null;

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
            ? new ValidatedClient(model.Client, model, presented.Method.Name)
            : Fail($"client '{model.Client.ClientId}' may not authenticate with {presented.Method.Name}; it is allowed {string.Join(", ", model.AuthenticationMethods.Order(StringComparer.Ordinal))}");
    }

    /// <summary>Unknown ids come from the caller: cap and strip them before they reach a log line.</summary>
    public static string LogSafe(string value)
        => new(value.AsSpan(0, Math.Min(value.Length, 64)).ToArray().Select(c => char.IsControl(c) ? '?' : c).ToArray());

    public static ProtocolError Fail(string detail)
        => new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, detail);
}
