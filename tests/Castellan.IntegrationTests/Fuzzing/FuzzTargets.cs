using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// The fuzz table: for every endpoint <c>MapCastellan</c> maps (by display name), the parameters it reads and a valid
/// baseline request to mutate. The fuzz test fails for a mapped endpoint that is missing here, so a new endpoint
/// is fuzzed from the day it is mapped: add a line with its display name and at least one baseline that succeeds.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>
    /// Redirect targets outside the server an answer may name in <c>Location</c> (or a form_post page post to): the
    /// redirect URIs registered for the fuzz server's clients, each only followed by '?' or '#' and the response.
    /// </summary>
    public static IReadOnlyList<string> RegisteredRedirectUris { get; } = [FuzzClients.RedirectUri];

    /// <summary>The server's own pages a Location may name: the interaction pages the authorize and end-session endpoints send the browser to.</summary>
    public static IReadOnlyList<string> InteractionPages { get; } = ["/account/login", "/consent", "/account/logout", "/error"];

    public static FuzzTarget? Find(string displayName, FuzzCredentials credentials) => displayName switch
    {
        "Castellan discovery" => Get(displayName),
        "Castellan JWKS" => Get(displayName),
        "Castellan token endpoint" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("client_secret_basic", "POST", Basic(FuzzClients.JwtClientId, FuzzClients.JwtClientSecret),
            [
                new("grant_type", "client_credentials", Required: true, Exact: true),
                new("scope", "api1"),
            ]),
            new FuzzBaseline("client_secret_post", "POST", null,
            [
                new("grant_type", "client_credentials", Required: true, Exact: true),
                new("client_id", FuzzClients.ReferenceClientId, Required: true, Exact: true),
                new("client_secret", FuzzClients.ReferenceClientSecret, Required: true, Exact: true, Secret: true),
                new("scope", "api2"),
            ]),

            // A client that requires DPoP: each request carries a proof of its own, which HeaderMutations breaks.
            new FuzzBaseline("DPoP proof", "POST", Basic(FuzzClients.DPoPClientId, FuzzClients.DPoPClientSecret),
            [
                new("grant_type", "client_credentials", Required: true, Exact: true),
                new("scope", "api1"),
            ]) { DPoPProof = htu => FuzzClients.DPoPKey.Proof("POST", htu), Granted = IsDPoPToken },
            new FuzzBaseline("private_key_jwt", "POST", null, ClientAssertion(credentials.Issuer))
            {
                FreshParameters = () => ClientAssertion(credentials.Issuer, FuzzClients.Assertion(credentials.Issuer)),
            },
            new FuzzBaseline("client_secret_jwt", "POST", null, ClientAssertion(credentials.Issuer, FuzzClients.HmacAssertion(credentials.Issuer)))
            {
                FreshParameters = () => ClientAssertion(credentials.Issuer, FuzzClients.HmacAssertion(credentials.Issuer)),
            },
        ]),
        "Castellan introspection endpoint" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("api resource, JWT", "POST", Basic("api1", TokenServer.Api1Secret),
            [
                new("token", credentials.JwtAccessToken, Required: true, Secret: true),
                new("token_type_hint", "access_token"),
            ]),
            new FuzzBaseline("client, reference token", "POST", null,
            [
                new("token", credentials.ReferenceToken, Required: true, Secret: true),
                new("client_id", FuzzClients.ReferenceClientId, Required: true, Exact: true),
                new("client_secret", FuzzClients.ReferenceClientSecret, Required: true, Exact: true, Secret: true),
            ]),
        ]),
        "Castellan revocation endpoint" => new FuzzTarget(displayName,
        [
            // Revoking the handle once is fine: an unknown token still gets 200 (RFC 7009 §2.2).
            new FuzzBaseline("reference token", "POST", Basic(FuzzClients.ReferenceClientId, FuzzClients.ReferenceClientSecret),
            [
                new("token", credentials.ReferenceToken, Required: true, Secret: true),
                new("token_type_hint", "access_token"),
            ]),
        ]),
        "Castellan authorize endpoint" => new FuzzTarget(displayName,
        [
            // With the fuzz user's session and prompt=none the answer is the code at once, in the form_post page or the query.
            new FuzzBaseline("session, form_post", "GET", null, Authorize("form_post")) { Cookie = credentials.SessionCookie, Granted = HasCode },
            new FuzzBaseline("session, query", "GET", null, Authorize(null)) { Cookie = credentials.SessionCookie, Granted = HasCode },
            new FuzzBaseline("POST form, session", "POST", null, Authorize(null)) { Cookie = credentials.SessionCookie, Granted = HasCode },
        ]),
        "Castellan authorize callback" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("ticket, session", "GET", null,
            [
                new("ticket", credentials.AuthorizeTicket, Required: true, Exact: true, Secret: true),
            ]) { Cookie = credentials.SessionCookie, Granted = HasCode },
        ]),
        "Castellan userinfo endpoint" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("bearer header", "GET", "Bearer " + credentials.UserAccessToken, []) { Methods = ["GET", "HEAD", "POST"] },

            // RFC 9449 §7: a DPoP-bound token with a proof for GET at this URL and the token's hash (ath).
            new FuzzBaseline("DPoP header", "GET", "DPoP " + credentials.UserDPoPAccessToken, [])
            {
                DPoPProof = htu => FuzzClients.DPoPKey.Proof("GET", htu, credentials.UserDPoPAccessToken),
            },
            new FuzzBaseline("form access_token", "POST", null,
            [
                new("access_token", credentials.UserAccessToken, Required: true, Exact: true, Secret: true),
            ]),
        ]),
        FuzzApi.DisplayName => new FuzzTarget(displayName,
        [
            // RFC 9449 §7 and §9: the bound token, a proof for this request with its ath, and the API's nonce.
            new FuzzBaseline("DPoP with nonce", "GET", "DPoP " + credentials.UserDPoPAccessToken, [])
            {
                DPoPProof = htu => FuzzClients.DPoPKey.Proof("GET", htu, credentials.UserDPoPAccessToken, nonce: credentials.ApiNonce),
            },
        ]),
        "Castellan end-session endpoint" => new FuzzTarget(displayName,
        [
            // Success is the logout page with a logout id; every refusal is the error page.
            new FuzzBaseline("id_token_hint, redirect", "GET", null,
            [
                new("id_token_hint", credentials.IdToken, Secret: true),
                new("client_id", FuzzClients.WebClientId),
                new("post_logout_redirect_uri", FuzzClients.PostLogoutRedirectUri),
                new("state", "fz-logout-state"),
            ]) { Cookie = credentials.SessionCookie, Granted = IsLogoutPage },
            new FuzzBaseline("POST client_id", "POST", null,
            [
                new("client_id", FuzzClients.WebClientId, Exact: true),
                new("post_logout_redirect_uri", FuzzClients.PostLogoutRedirectUri, Exact: true),
            ]) { Granted = IsLogoutPage },
        ]),
        _ => null,
    };

    /// <summary>A client_credentials request authenticated by a client assertion (RFC 7523 §2.2); <paramref name="assertion"/> null for a private_key_jwt one.</summary>
    private static FuzzParameter[] ClientAssertion(string issuer, string? assertion = null) =>
    [
        new("grant_type", "client_credentials", Required: true, Exact: true),
        new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", Required: true, Exact: true),
        new("client_assertion", assertion ?? FuzzClients.Assertion(issuer), Required: true, Exact: true, Secret: true),
        new("scope", "api1"),
    ];

    private static bool IsDPoPToken(RawResponse response)
        => response.Status == 200 && response.Body.Contains("\"token_type\":\"DPoP\"", StringComparison.Ordinal);

    /// <summary>The authorize request of the fuzz client and user: client, redirect URI, response type and PKCE are what it needs.</summary>
    private static FuzzParameter[] Authorize(string? responseMode) =>
    [
        new("client_id", FuzzClients.WebClientId, Required: true, Exact: true),
        new("redirect_uri", FuzzClients.RedirectUri, Required: true, Exact: true),
        new("response_type", "code", Required: true, Exact: true),
        new("scope", "openid profile api1"),
        new("state", "fz-state"),
        new("nonce", "fz-nonce"),
        new("prompt", "none"),
        new("code_challenge", Castellan.Pkce.PkceValidator.S256Challenge(FuzzClients.Verifier), Required: true),
        new("code_challenge_method", "S256", Required: true, Exact: true),
        .. responseMode is null ? Array.Empty<FuzzParameter>() : [new FuzzParameter("response_mode", responseMode)],
    ];

    /// <summary>An authorization response with a code: a 302 to the registered redirect URI, or the form_post page.</summary>
    private static bool HasCode(RawResponse response)
    {
        if (response.Status == 302 && response.Header("Location") is { } location)
        {
            return location.StartsWith(FuzzClients.RedirectUri + "?code=", StringComparison.Ordinal)
                   || location.StartsWith(FuzzClients.RedirectUri + "#code=", StringComparison.Ordinal);
        }

        return response.Status == 200 && response.Body.Contains("<input type=\"hidden\" name=\"code\"", StringComparison.Ordinal);
    }

    private static bool IsLogoutPage(RawResponse response)
        => response.Status == 302 && response.Header("Location")?.StartsWith("/account/logout?logoutId=", StringComparison.Ordinal) == true;

    private static FuzzTarget Get(string displayName) => new(displayName, [new FuzzBaseline("GET", "GET", null, [])]);

    private static string Basic(string id, string secret) => TestTokens.Basic(id, secret);
}
