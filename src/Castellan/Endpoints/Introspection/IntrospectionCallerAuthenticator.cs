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

        var now = time.GetUtcNow();
        if (resources.ApiResources.TryGetValue(credentials.ClientId, out var resource))
        {
            var secrets = ResourceSecrets.GetValue(resource, static r => SecretVerifier.Decode(r.ApiSecrets));
            if (secrets.Length > 0 && SecretVerifier.Matches(secrets, credentials.Secret, now))
            {
                return new IntrospectionCaller(resource.Name, resource, null);
            }
        }

        var client = await clients.FindClientByIdAsync(credentials.ClientId, cancellationToken).ConfigureAwait(false);
        if (client is { Enabled: true } && SecretVerifier.Matches(ClientModel.For(client).SecretHashes, credentials.Secret, now))
        {
            return new IntrospectionCaller(client.ClientId, null, client);
        }

        return Fail("neither an API resource nor a client with that secret");
    }

    private static ProtocolError Fail(string detail)
        => new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, detail);
}
