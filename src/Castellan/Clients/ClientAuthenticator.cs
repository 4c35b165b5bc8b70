using Castellan.Protocol;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Clients;

/// <summary>A client whose credentials checked out, and how it authenticated.</summary>
internal sealed record ValidatedClient(Client Client, ClientModel Model, string AuthenticationMethod);

/// <summary>
/// Authenticates the client of a token request. Every failure looks the same to the caller
/// (<c>invalid_client</c>); the reason goes to the log only.
/// </summary>
internal sealed class ClientAuthenticator(IClientStore clients, TimeProvider time, IOptions<CastellanOptions> options)
{
    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public async ValueTask<Outcome<ValidatedClient>> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken cancellationToken)
    {
        var authorization = request.Headers.Authorization;
        var parsed = ClientCredentialsParser.Parse(authorization, form, _limits);
        if (parsed.IsError)
        {
            return parsed.Error!;
        }

        var credentials = parsed.Value!.Credentials;
        var client = await clients.FindClientByIdAsync(credentials.ClientId, cancellationToken).ConfigureAwait(false);
        if (client is null || !client.Enabled)
        {
            // Do the work a wrong secret costs, so the answer's timing does not tell unknown or disabled clients
            // from known ones.
            if (credentials.Secret is not null)
            {
                SecretVerifier.Matches(SecretVerifier.Decoy, credentials.Secret, time.GetUtcNow());
            }

            return Fail(client is null ? $"unknown client '{LogSafe(credentials.ClientId)}'" : $"client '{client.ClientId}' is disabled");
        }

        var model = ClientModel.For(client);
        if (credentials.Method == ClientAuthenticationMethods.None)
        {
            return client.RequireClientSecret
                ? Fail($"client '{client.ClientId}' requires a secret but sent none")
                : new ValidatedClient(client, model, credentials.Method);
        }

        if (!SecretMatches(model, credentials.Secret!))
        {
            return Fail($"the secret of client '{client.ClientId}' does not match any unexpired secret");
        }

        return new ValidatedClient(client, model, credentials.Method);
    }

    private bool SecretMatches(ClientModel model, string presented)
        => SecretVerifier.Matches(model.SecretHashes, presented, time.GetUtcNow());

    /// <summary>Unknown ids come from the caller: cap and strip them before they reach a log line.</summary>
    private static string LogSafe(string value)
        => new(value.AsSpan(0, Math.Min(value.Length, 64)).ToArray().Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static ProtocolError Fail(string detail)
        => new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, detail);
}
