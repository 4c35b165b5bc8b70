using System.Collections.Frozen;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>RFC 6749 §4.4.2. Parameters: <c>scope</c> (optional), <c>resource</c> (RFC 8707, optional, repeatable).</summary>
internal sealed class ClientCredentialsGrantValidator(IOptions<CastellanOptions> options) : ITokenGrantValidator
{
    private static readonly ProtocolError PublicClient =
        new(OAuthErrors.UnauthorizedClient, "The client_credentials grant requires a confidential client.");

    private readonly int _maxScopeLength = options.Value.InputLengthRestrictions.Scope;

    private static readonly FrozenSet<string> Repeatable = FrozenSet.Create(StringComparer.Ordinal, OAuthParameters.Resource);

    public string GrantType => GrantTypes.ClientCredentials;

    public IReadOnlySet<string> RepeatableParameters => Repeatable;

    public ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
        => ValueTask.FromResult(Validate(context));

    private Outcome<ValidatedTokenRequest> Validate(TokenRequestContext context)
    {
        // RFC 6749 §4.4: the client credentials grant MUST only be used by confidential clients.
        if (context.Client.AuthenticationMethod == ClientAuthenticationMethods.None)
        {
            return PublicClient;
        }

        var granted = ScopeValidator.Validate(context.Parameter(OAuthParameters.Scope), context.ResourceIndicators(), context.Client.Model, context.Resources,
            context.Issuer, _maxScopeLength, allowIdentityScopes: false);
        if (granted.IsError)
        {
            return granted.Error!;
        }

        return new ValidatedClientCredentialsRequest(context.Client, context.Issuer, granted.Value!);
    }
}
