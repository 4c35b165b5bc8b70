using Castellan.Protocol;

namespace Castellan.Clients.Authentication;

/// <summary><c>client_secret_post</c> (RFC 6749 §2.3.1): <c>client_id</c> and <c>client_secret</c> in the form body.</summary>
internal sealed class ClientSecretPost : SharedSecretMethod
{
    public override string Name => ClientAuthenticationMethods.ClientSecretPost;

    public override Outcome<PresentedCredentials>? Read(ClientRequest request)
    {
        if (request.FormValue(OAuthParameters.ClientSecret) is not { } secret)
        {
            return null;
        }

        if (request.FormValue(OAuthParameters.ClientId) is not { } id)
        {
            return ClientRequestReader.NoCredentials;
        }

        return id.Length > request.Limits.ClientId || secret.Length > request.Limits.ClientSecret
            ? ProtocolError.InvalidClient
            : new PresentedCredentials(id, this, secret);
    }
}

/// <summary>The methods that present a shared secret: checked in constant time against the client's hashed secrets.</summary>
internal abstract class SharedSecretMethod : IClientAuthenticationMethod
{
    public abstract string Name { get; }

    public bool Authenticates => true;

    public abstract Outcome<PresentedCredentials>? Read(ClientRequest request);

    public ValueTask<string?> VerifyAsync(PresentedCredentials presented, ClientModel? client, ClientRequest request, DateTimeOffset now, CancellationToken cancellationToken)
        => ValueTask.FromResult(Matches(client?.SecretHashes, presented.Secret!, now) && client is not null
            ? null
            : "the secret does not match any unexpired secret of the client");

    /// <summary>Against <see cref="SecretVerifier.Decoy"/> when there is nothing real to compare, so the work is the same.</summary>
    public static bool Matches((byte[] Hash, DateTimeOffset? Expiration)[]? stored, string presented, DateTimeOffset now)
        => SecretVerifier.Matches(stored is { Length: > 0 } ? stored : SecretVerifier.Decoy, presented, now) && stored is { Length: > 0 };
}
