using System.Runtime.CompilerServices;
using Castellan.Clients;
using Castellan.Clients.Authentication;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Stores;
using Microsoft.AspNetCore.Http;

namespace Castellan.Endpoints.Introspection;

/// <summary>Who is introspecting: an API resource (with its ApiSecrets) or a client (with its ClientSecrets).</summary>
internal sealed record IntrospectionCaller(string Id, ApiResource? Resource, Client? Client);

/// <summary>
/// RFC 7662 §2.1: the introspection endpoint requires authentication. APIs authenticate with their name and
/// one of their <see cref="ApiResource.ApiSecrets"/>; clients with their own secret. Basic or form, as at the
/// token endpoint.
/// </summary>
internal sealed class IntrospectionCallerAuthenticator(IClientStore clients, ClientRequestReader reader, TimeProvider time)
{
    private static readonly ConditionalWeakTable<ApiResource, (byte[] Hash, DateTimeOffset? Expiration)[]> ResourceSecrets = new();

    public async ValueTask<Outcome<IntrospectionCaller>> AuthenticateAsync(HttpRequest request, IFormCollection form, ResourceIndex resources,
        CancellationToken cancellationToken)
    {
        var clientRequest = await reader.CreateRequestAsync(request, form, cancellationToken).ConfigureAwait(false);
        var read = reader.Read(clientRequest, allowNone: false);
        if (read.IsError)
        {
            return read.Error!;
        }

        var presented = read.Value!;
        if (!presented.Method.Authenticates)
        {
            return ClientAuthenticator.Fail("no secret presented");
        }

        // Both checks always run, each against a decoy when there is nothing real to compare, so the time taken does
        // not tell an unknown name from an API resource, a client, or a disabled client. An API resource has shared
        // secrets only.
        var now = time.GetUtcNow();
        var resource = resources.ApiResources.GetValueOrDefault(presented.ClientId);
        var resourceMatches = presented.Secret is { } secret
            && SharedSecretMethod.Matches(resource is null ? null : ResourceSecrets.GetValue(resource, static r => SecretVerifier.Decode(r.ApiSecrets)), secret, now)
            && resource is not null;

        var client = await clients.FindClientByIdAsync(presented.ClientId, cancellationToken).ConfigureAwait(false);
        var model = client is { Enabled: true } ? ClientModel.For(client) : null;
        presented = ClientRequestReader.Choose(presented, model);
        var clientMatches = await presented.Method.VerifyAsync(presented, model, clientRequest, now, cancellationToken).ConfigureAwait(false) is null
            && model is not null && model.AuthenticationMethods.Contains(presented.Method.Name);

        if (resourceMatches)
        {
            return new IntrospectionCaller(resource!.Name, resource, null);
        }

        if (clientMatches)
        {
            return new IntrospectionCaller(client!.ClientId, null, client);
        }

        return ClientAuthenticator.Fail("neither an API resource nor a client with those credentials");
    }
}
