using Castellan.Clients;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.AspNetCore.Http;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>
/// Validation of one grant type. Each grant owns its parameters and its rules; the validator only dispatches.
/// </summary>
internal interface ITokenGrantValidator
{
    string GrantType { get; }

    ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken);
}

/// <summary>What every grant validator gets: the parsed form, the authenticated client, the resources in force.</summary>
internal sealed record TokenRequestContext(IFormCollection Form, ValidatedClient Client, string Issuer, ResourceIndex Resources)
{
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
