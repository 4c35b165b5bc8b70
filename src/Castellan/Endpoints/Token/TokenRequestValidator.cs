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

    /// <summary>The registered grant types, in registration order (discovery lists them; configuration validation accepts them).</summary>
    public IReadOnlyList<string> SupportedGrantTypes { get; } = grants.Select(g => g.GrantType).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Every parameter some registered grant lets repeat. The form parser lets these through; the chosen grant
    /// then refuses those it does not take more than once itself.
    /// </summary>
    public FrozenSet<string> RepeatableParameters { get; } = grants.SelectMany(g => g.RepeatableParameters).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Grants that let fewer parameters repeat than the parser does: only these look at repetitions again.</summary>
    private readonly FrozenSet<string> _stricterGrants = grants
        .Where(g => !g.RepeatableParameters.ToHashSet(StringComparer.Ordinal).SetEquals(grants.SelectMany(o => o.RepeatableParameters)))
        .Select(g => g.GrantType).ToFrozenSet(StringComparer.Ordinal);

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

        if (_stricterGrants.Contains(grantType) && RepeatedParameter(context.Form, grant) is { } repeated)
        {
            // RFC 6749 §3.1: parameters MUST NOT be included more than once, unless this grant declares otherwise.
            return ValueTask.FromResult<Outcome<ValidatedTokenRequest>>(ProtocolError.InvalidRequest(
                $"The parameter '{FormRequestParser.SafeName(repeated)}' was sent more than once."));
        }

        return grant.ValidateAsync(context, cancellationToken);
    }

    private static string? RepeatedParameter(Microsoft.AspNetCore.Http.IFormCollection form, ITokenGrantValidator grant)
    {
        foreach (var parameter in form)
        {
            if (parameter.Value.Count > 1 && !grant.RepeatableParameters.Contains(parameter.Key))
            {
                return parameter.Key;
            }
        }

        return null;
    }

    private static bool IsPrintableAscii(string value) => !value.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7E);
}
