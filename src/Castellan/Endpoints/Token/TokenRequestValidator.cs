using System.Collections.Frozen;
using Castellan.Endpoints.Token.Grants;
using Castellan.Protocol;

namespace Castellan.Endpoints.Token;

/// <summary>
/// Checks that apply to every grant (grant_type present, supported, allowed for this client), then hands the
/// request to the grant's own validator.
/// </summary>
internal sealed class TokenRequestValidator(IEnumerable<ITokenGrantValidator> grants, Microsoft.Extensions.Options.IOptions<CastellanOptions> options)
{
    private readonly int _maxGrantTypeLength = options.Value.InputLengthRestrictions.GrantType;

    private readonly FrozenDictionary<string, ITokenGrantValidator> _grants =
        grants.ToFrozenDictionary(g => g.GrantType, StringComparer.Ordinal);

    public IEnumerable<string> SupportedGrantTypes => _grants.Keys;

    public ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var grantType = context.Parameter(OAuthParameters.GrantType);
        if (grantType is null)
        {
            return ValueTask.FromResult<Outcome<ValidatedTokenRequest>>(ProtocolError.MissingGrantType);
        }

        if (grantType.Length > _maxGrantTypeLength)
        {
            return ValueTask.FromResult<Outcome<ValidatedTokenRequest>>(ProtocolError.InvalidRequest("The grant_type parameter is too long."));
        }

        if (!_grants.TryGetValue(grantType, out var grant))
        {
            // RFC 6749 Appendix A.10: a grant type is a name or a URI, both printable ASCII; anything else is a
            // malformed parameter rather than a grant type this server merely lacks.
            return ValueTask.FromResult<Outcome<ValidatedTokenRequest>>(IsPrintableAscii(grantType)
                ? ProtocolError.UnsupportedGrantType
                : ProtocolError.InvalidRequest("The grant_type parameter holds characters a grant type cannot have."));
        }

        if (!context.Client.Model.GrantTypes.Contains(grantType))
        {
            return ValueTask.FromResult<Outcome<ValidatedTokenRequest>>(ProtocolError.UnauthorizedClient);
        }

        return grant.ValidateAsync(context, cancellationToken);
    }

    private static bool IsPrintableAscii(string value) => !value.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7E);
}
