using Castellan.Clients;
using Castellan.Protocol;
using Castellan.Resources;

namespace Castellan.Endpoints.Authorize;

/// <summary>The parameters of an authorization request, by exact (ordinal) name; values as sent.</summary>
internal sealed class AuthorizeParameters(Dictionary<string, string[]> values)
{
    public Dictionary<string, string[]> Values { get; } = values;

    /// <summary>The value of a parameter sent once, or null when absent or empty (RFC 6749 §3.1: empty means omitted).</summary>
    public string? Get(string name)
        => Values.TryGetValue(name, out var value) && value.Length == 1 && value[0].Length > 0 ? value[0] : null;

    public bool IsRepeated(string name) => Values.TryGetValue(name, out var value) && value.Length > 1;

    public IReadOnlyList<string> All(string name)
        => Values.TryGetValue(name, out var value) ? value.Where(v => v.Length > 0).ToArray() : [];
}

/// <summary>Where, and how, an authorization response (or error) may go: only once client and redirect URI checked out.</summary>
internal sealed record AuthorizeRedirect(string RedirectUri, string ResponseMode, string? State);

/// <summary>An authorization request that passed every protocol check; the user and consent come next.</summary>
internal sealed record ValidatedAuthorizeRequest
{
    public required Client Client { get; init; }

    public required ClientModel Model { get; init; }

    public required AuthorizeRedirect Redirect { get; init; }

    public required AuthorizeParameters Parameters { get; init; }

    /// <summary>Every requested scope that may be granted (identity, API, offline_access).</summary>
    public required GrantedResources Resources { get; init; }

    public required IReadOnlyList<string> ResourceIndicators { get; init; }

    public bool IsOpenIdRequest => Resources.Scopes.Contains(StandardScopes.OpenId);

    public bool OfflineAccess => Resources.Scopes.Contains(StandardScopes.OfflineAccess);

    public string? Nonce { get; init; }

    public string? CodeChallenge { get; init; }

    public string? CodeChallengeMethod { get; init; }

    /// <summary>RFC 9449 §10 <c>dpop_jkt</c>: the code may only be redeemed with a DPoP proof by this key.</summary>
    public string? DPoPKeyThumbprint { get; init; }

    public required IReadOnlySet<string> Prompt { get; init; }

    public int? MaxAge { get; init; }

    /// <summary>The <c>sub</c> of a valid <c>id_token_hint</c>: the user the client expects.</summary>
    public string? HintSubject { get; init; }

    public string? LoginHint { get; init; }

    public string? UiLocales { get; init; }

    public string? AcrValues { get; init; }
}

/// <summary>
/// A refused authorization request. With <see cref="Redirect"/> the error goes back to the client (RFC 6749
/// §4.1.2.1); without, the client or its redirect URI could not be trusted and the user sees the error page.
/// </summary>
internal sealed record AuthorizeError(ProtocolError Error, AuthorizeRedirect? Redirect);
