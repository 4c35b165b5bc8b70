using Castellan.Clients;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.AspNetCore.Http;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>
/// Validation of one grant type. Each grant owns its parameters and its rules; the validator only dispatches.
/// Grants register themselves in DI (<c>TryAddEnumerable</c>): the token endpoint, configuration validation
/// (a client's <c>AllowedGrantTypes</c>) and discovery (<c>grant_types_supported</c>) all follow what is
/// registered.
/// </summary>
internal interface ITokenGrantValidator
{
    string GrantType { get; }

    /// <summary>
    /// The parameters this grant takes more than once (RFC 8707 <c>resource</c>); every other parameter must not
    /// repeat (RFC 6749 §3.1). Parameters a grant does not read are ignored (§3.2).
    /// </summary>
    IReadOnlySet<string> RepeatableParameters { get; }

    ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken);
}

/// <summary>What every grant validator gets: the parsed form, the authenticated client, the resources in force.</summary>
internal sealed record TokenRequestContext(IFormCollection Form, ValidatedClient Client, string Issuer, ResourceIndex Resources)
{
    /// <summary>
    /// The RFC 7638 thumbprint of the key of the request's valid DPoP proof (RFC 9449 §5); null without a proof.
    /// Grants that continue a key-bound grant (refresh tokens of public clients) compare it with their binding.
    /// </summary>
    public string? DPoPKeyThumbprint { get; init; }

    /// <summary>
    /// The <c>x5t#S256</c> of the connection's client certificate when the tokens are to be bound to it (RFC 8705 §3,
    /// <see cref="CertificateBinding"/>); null otherwise. Refresh tokens bound to a certificate are compared with it.
    /// </summary>
    public string? CertificateThumbprint { get; init; }

    /// <summary>A parameter's value, or null when absent or empty (RFC 6749 §3.1: empty means omitted).</summary>
    public string? Parameter(string name)
    {
        var value = Form[name];
        return value.Count == 1 && !string.IsNullOrEmpty(value[0]) ? value[0] : null;
    }

    /// <summary>The RFC 8707 <c>resource</c> values (the one parameter that may repeat), empty ones dropped.</summary>
    public IReadOnlyList<string> ResourceIndicators()
    {
        var values = Form[Protocol.OAuthParameters.Resource];
        if (values.Count == 0)
        {
            return [];
        }

        var list = new List<string>(values.Count);
        foreach (var value in values)
        {
            if (!string.IsNullOrEmpty(value))
            {
                list.Add(value);
            }
        }

        return list;
    }
}
