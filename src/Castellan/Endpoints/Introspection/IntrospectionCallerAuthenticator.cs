using System.Runtime.CompilerServices;
using Castellan.Clients;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Introspection;

/// <summary>Who is introspecting: an API resource (with its ApiSecrets) or a client (with its ClientSecrets).</summary>
internal sealed record IntrospectionCaller(string Id, ApiResource? Resource, Client? Client);

/// <summary>
/// RFC 7662 §2.1: the introspection endpoint requires authentication. APIs authenticate with their name and
/// one of their <see cref="ApiResource.ApiSecrets"/>; clients with their own secret. Basic or form, as at the
/// token endpoint.
/// </summary>
internal sealed class IntrospectionCallerAuthenticator(IClientStore clients, TimeProvider time, IOptions<CastellanOptions> options)
{
    private static readonly ConditionalWeakTable<ApiResource, (byte[] Hash, DateTimeOffset? Expiration)[]> ResourceSecrets = new();
    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public async ValueTask<Outcome<IntrospectionCaller>> AuthenticateAsync(HttpRequest request, IFormCollection form, ResourceIndex resources,
        CancellationToken cancellationToken)
    {
        var parsed = ClientCredentialsParser.Parse(request.Headers.Authorization, form, _limits);
        if (parsed.IsError)
        {
            return parsed.Error!;
        }

        var credentials = parsed.Value!.Credentials;
        if (credentials.Secret is null)
        {
            return Fail("no secret presented");
        }

        // Both checks always run, each against a decoy when there is nothing real to compare, so the time taken does
        // not tell an unknown name from an API resource, a client, or a disabled client.
        var now = time.GetUtcNow();
        var resource = resources.ApiResources.GetValueOrDefault(credentials.ClientId);
        var resourceSecrets = resource is null ? SecretVerifier.Decoy : ResourceSecrets.GetValue(resource, static r => SecretVerifier.Decode(r.ApiSecrets));
        var resourceMatches = SecretVerifier.Matches(resourceSecrets.Length > 0 ? resourceSecrets : SecretVerifier.Decoy, credentials.Secret, now) && resource is not null;

        var client = await clients.FindClientByIdAsync(credentials.ClientId, cancellationToken).ConfigureAwait(false);
        var clientSecrets = client is { Enabled: true } ? ClientModel.For(client).SecretHashes : SecretVerifier.Decoy;
        var clientMatches = SecretVerifier.Matches(clientSecrets, credentials.Secret, now) && client is { Enabled: true };

        if (resourceMatches)
        {
            return new IntrospectionCaller(resource!.Name, resource, null);
        }

        if (clientMatches)
        {
            return new IntrospectionCaller(client!.ClientId, null, client);
        }

        return Fail("neither an API resource nor a client with that secret");
    }

    private static ProtocolError Fail(string detail)
        => new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, detail);
}
