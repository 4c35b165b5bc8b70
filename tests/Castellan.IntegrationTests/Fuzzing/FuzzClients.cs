using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Clients added to the standard <see cref="TokenServer"/> for fuzzing. Their secrets are long and distinctive so
/// that finding one in an answer means it was echoed (the standard clients' "secret" is too common a word to search for).
/// </summary>
internal static class FuzzClients
{
    public const string JwtClientId = "fuzz-client";
    public const string JwtClientSecret = "fz-jwt-7Rq2vX9mK4";
    public const string ReferenceClientId = "fuzz-ref-client";
    public const string ReferenceClientSecret = "fz-ref-4Lp8wN3kT6";
    public const string WebClientId = "fuzz-web";
    public const string WebClientSecret = "fz-web-9Hc3pQ7sV2";
    public const string RedirectUri = "https://fuzz-app.example/signin-oidc";
    public const string PostLogoutRedirectUri = "https://fuzz-app.example/signed-out";
    public const string Username = "fuzz-user";
    public const string Password = "fz-pwd-2Xk8mR5tW1";

    /// <summary>A client that must send a DPoP proof with every token request (<see cref="Client.RequireDPoP"/>).</summary>
    public const string DPoPClientId = "fuzz-dpop";
    public const string DPoPClientSecret = "fz-dpop-5Wn6yB2cH8";

    /// <summary>A client that authenticates with <c>private_key_jwt</c> only, its public key registered as a JWK secret.</summary>
    public const string AssertionClientId = "fuzz-pkjwt";

    /// <summary>A client that authenticates with <c>client_secret_jwt</c> only (an HmacSecret).</summary>
    public const string HmacClientId = "fuzz-csjwt";
    public const string HmacClientSecret = "fz-csjwt-0123456789abcdef0123456789abcdef";

    /// <summary>The DPoP client's key (ES256); the proofs of the baselines and of the DPoP mutations.</summary>
    public static DPoPClientKey DPoPKey { get; } = new(TimeProvider.System);

    private static readonly ECDsa AssertionKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>
    /// A fresh client assertion (RFC 7523 §3) of the assertion client for <paramref name="issuer"/>: ES256, its own
    /// <c>jti</c>, valid for a minute.
    /// </summary>
    public static string Assertion(string issuer)
        => TestTokens.ClientAssertion(AssertionClientId, issuer, new ECDsaSecurityKey(AssertionKey) { KeyId = "fuzz-pkjwt-1" }, SecurityAlgorithms.EcdsaSha256);

    /// <summary>A fresh client assertion of the <c>client_secret_jwt</c> client for <paramref name="issuer"/>: HS256 over its HmacSecret.</summary>
    public static string HmacAssertion(string issuer)
        => TestTokens.ClientAssertion(HmacClientId, issuer, new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(HmacClientSecret)), SecurityAlgorithms.HmacSha256);

    private static string AssertionPublicJwk()
    {
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(AssertionKey) { KeyId = "fuzz-pkjwt-1" });
        jwk.D = null;
        return JsonSerializer.Serialize(jwk);
    }

    /// <summary>The PKCE verifier of every authorization request of the baselines (its S256 challenge is in the table).</summary>
    public const string Verifier = "fz-verifier-0123456789-0123456789-0123456789";

    public static void Register(ICastellanBuilder castellan) => castellan.AddInMemoryClients(
    [
        new Client
        {
            ClientId = JwtClientId,
            ClientSecrets = { Secret.FromPlainText(JwtClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1", "api2" },
        },
        new Client
        {
            ClientId = ReferenceClientId,
            ClientSecrets = { Secret.FromPlainText(ReferenceClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1", "api2" },
            AccessTokenType = AccessTokenType.Reference,
        },
        new Client
        {
            ClientId = DPoPClientId,
            ClientSecrets = { Secret.FromPlainText(DPoPClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
            RequireDPoP = true,
        },
        new Client
        {
            ClientId = AssertionClientId,
            ClientSecrets = { new Secret { Type = SecretTypes.JsonWebKey, Value = AssertionPublicJwk() } },
            AllowedAuthenticationMethods = { Castellan.Protocol.ClientAuthenticationMethods.PrivateKeyJwt },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        },
        new Client
        {
            ClientId = HmacClientId,
            ClientSecrets = { Secret.FromHmacSecret(HmacClientSecret) },
            AllowedAuthenticationMethods = { Castellan.Protocol.ClientAuthenticationMethods.ClientSecretJwt },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        },
        new Client
        {
            ClientId = WebClientId,
            ClientSecrets = { Secret.FromPlainText(WebClientSecret) },
            AllowedGrantTypes = { GrantTypes.AuthorizationCode },
            RedirectUris = { RedirectUri },
            PostLogoutRedirectUris = { PostLogoutRedirectUri },
            AllowedScopes = { "openid", "profile", "api1" },
            AllowOfflineAccess = true,
        },
    ])
        .AddInMemoryIdentityResources([IdentityResource.OpenId(), IdentityResource.Profile()])
        .AddTestUsers([new TestUser { SubjectId = "fuzz-sub", Username = Username, Password = Password }]);

    /// <summary>Every secret the server knows that a fuzz request may carry (all of them at least 8 characters).</summary>
    public static IReadOnlyList<string> Secrets { get; } =
        [JwtClientSecret, ReferenceClientSecret, WebClientSecret, DPoPClientSecret, Password, TokenServer.Api1Secret, TokenServer.Api2Secret];

    /// <summary>
    /// Issues the tokens the introspection, revocation and userinfo baselines carry, and signs the user in for the
    /// session cookie and the pending-request ticket of the authorize baselines.
    /// </summary>
    public static async Task<FuzzCredentials> IssueAsync(HttpClient http, string baseAddress)
    {
        var jwt = await TokenAsync(http, JwtClientId, JwtClientSecret);
        var reference = await TokenAsync(http, ReferenceClientId, ReferenceClientSecret);

        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = new Uri(baseAddress + "/") };
        using (var login = await browser.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["username"] = Username,
                   ["password"] = Password,
                   ["ReturnUrl"] = "/",
               })))
        {
            Assert.True(login.StatusCode == HttpStatusCode.Redirect, $"the fuzz user could not sign in: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        }

        var cookie = cookies.GetCookieHeader(new Uri(baseAddress));
        var code = await CodeAsync(browser, AuthorizeQuery(prompt: "none"));
        using var redeemed = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = WebClientId,
            ["client_secret"] = WebClientSecret,
            ["code"] = code,
            ["redirect_uri"] = RedirectUri,
            ["code_verifier"] = Verifier,
        }));
        var body = await redeemed.Content.ReadAsStringAsync();
        Assert.True(redeemed.IsSuccessStatusCode, $"the fuzz user's code could not be redeemed: {body}");
        using var tokens = JsonDocument.Parse(body);

        // A second code, redeemed with a DPoP proof: the userinfo baseline that sends Authorization: DPoP.
        using var dpopRedemption = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = WebClientId,
                ["client_secret"] = WebClientSecret,
                ["code"] = await CodeAsync(browser, AuthorizeQuery(prompt: "none")),
                ["redirect_uri"] = RedirectUri,
                ["code_verifier"] = Verifier,
            }),
        };
        dpopRedemption.Headers.Add("DPoP", DPoPKey.Proof("POST", baseAddress + "/connect/token"));
        using var dpopRedeemed = await http.SendAsync(dpopRedemption);
        var dpopBody = await dpopRedeemed.Content.ReadAsStringAsync();
        Assert.True(dpopRedeemed.IsSuccessStatusCode && dpopBody.Contains("\"token_type\":\"DPoP\"", StringComparison.Ordinal),
            $"the fuzz user's code could not be redeemed with DPoP: {dpopBody}");
        using var dpopTokens = JsonDocument.Parse(dpopBody);

        // Without the cookie the request waits at the login page: its ReturnUrl holds the ticket of the callback baseline.
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(baseAddress + "/") };
        using var pending = await anonymous.GetAsync("connect/authorize?" + AuthorizeQuery(prompt: null));
        var returnUrl = QueryHelpers.ParseQuery(new Uri(new Uri(baseAddress), pending.Headers.Location!).Query)["ReturnUrl"].ToString();
        var ticket = QueryHelpers.ParseQuery(new Uri(new Uri(baseAddress), returnUrl).Query)["ticket"].ToString();
        Assert.False(string.IsNullOrEmpty(ticket), $"no ticket in the login redirect: {pending.Headers.Location}");

        return new FuzzCredentials(jwt, reference)
        {
            Issuer = baseAddress,
            SessionCookie = cookie,
            UserAccessToken = tokens.RootElement.GetProperty("access_token").GetString()!,
            UserDPoPAccessToken = dpopTokens.RootElement.GetProperty("access_token").GetString()!,
            IdToken = tokens.RootElement.GetProperty("id_token").GetString()!,
            AuthorizeTicket = ticket,
        };
    }

    /// <summary>The query of the authorize baselines (query response mode).</summary>
    private static string AuthorizeQuery(string? prompt)
        => "client_id=" + WebClientId + "&redirect_uri=" + Uri.EscapeDataString(RedirectUri) + "&response_type=code&scope=openid%20profile%20api1"
           + "&state=fz-state&nonce=fz-nonce&code_challenge=" + Castellan.Pkce.PkceValidator.S256Challenge(Verifier) + "&code_challenge_method=S256"
           + (prompt is null ? "" : "&prompt=" + prompt);

    private static async Task<string> CodeAsync(HttpClient browser, string query)
    {
        using var response = await browser.GetAsync("connect/authorize?" + query);
        var location = response.Headers.Location?.ToString() ?? "";
        Assert.True(location.StartsWith(RedirectUri + "?", StringComparison.Ordinal), $"the fuzz user got no code: {(int)response.StatusCode} {location}");
        return QueryHelpers.ParseQuery(new Uri(location).Query)["code"].ToString();
    }

    private static async Task<string> TokenAsync(HttpClient http, string clientId, string secret)
    {
        using var response = await TestTokens.RequestAsync(http, clientId, secret, "api1");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{clientId} could not get a token for the fuzz baselines: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}

/// <summary>
/// Tokens issued before fuzzing: a JWT access token and a reference token handle, both for api1; and for the
/// interactive endpoints the fuzz user's session cookie, a user access token (openid), an id_token and the ticket of
/// a pending authorization request.
/// </summary>
internal sealed record FuzzCredentials(string JwtAccessToken, string ReferenceToken)
{
    /// <summary>The server's issuer: the audience of the client assertions.</summary>
    public string Issuer { get; init; } = "";

    public string SessionCookie { get; init; } = "";

    public string UserAccessToken { get; init; } = "user-access-token";

    /// <summary>A user access token bound to <see cref="FuzzClients.DPoPKey"/> (<c>cnf.jkt</c>).</summary>
    public string UserDPoPAccessToken { get; init; } = "user-dpop-access-token";

    public string IdToken { get; init; } = "id-token";

    /// <summary>A DPoP nonce of the fuzz API (<see cref="FuzzApi"/>), valid for the run.</summary>
    public string ApiNonce { get; init; } = "api-nonce";

    public string AuthorizeTicket { get; init; } = "ticket";

    public IReadOnlyList<string> All => [.. FuzzClients.Secrets, JwtAccessToken, ReferenceToken, UserAccessToken, UserDPoPAccessToken, IdToken, AuthorizeTicket];
}
