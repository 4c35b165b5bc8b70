using System.Net;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// PKCE (RFC 7636, RFC 9700 §2.1.1 and §4.8): S256 required by default at the authorize endpoint, and the verifier
/// checked at redemption, with no downgrade and no verifier accepted for a code issued without a challenge.
/// </summary>
public sealed class PkceTests : TokenServerTest, IDisposable
{
    private const string NoPkceClientId = "no-pkce-web";

    private BrowserSession? _browser;

    private BrowserSession Browser => _browser ??= new BrowserSession(Server);

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => InteractiveServer.StartAsync(root, configure: c => c.AddInMemoryClients(
    [
        new Client
        {
            ClientId = NoPkceClientId,
            ClientSecrets = { Secret.FromPlainText(InteractiveServer.WebSecret) },
            AllowedGrantTypes = { GrantTypes.AuthorizationCode },
            RedirectUris = { InteractiveServer.RedirectUri },
            AllowedScopes = { "openid", "api1" },
            RequirePkce = false,
        },
    ]));

    public void Dispose() => _browser?.Dispose();

    [Fact]
    public async Task Missing_code_challenge_is_redirected_as_invalid_request()
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid().Without("code_challenge").Without("code_challenge_method").Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Plain_method_is_refused()
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid().With("code_challenge", AuthorizeQuery.Verifier).With("code_challenge_method", "plain").Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Challenge_without_method_means_plain_and_is_refused()
    {
        // RFC 7636 §4.3: an omitted method is plain.
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid().Without("code_challenge_method").Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData("S512")]
    [InlineData("s256")]
    [InlineData("S256 ")]
    public async Task Unknown_method_is_refused(string method)
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid().With("code_challenge_method", method).Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Method_without_challenge_is_refused_even_when_pkce_is_optional()
    {
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid(NoPkceClientId).Without("code_challenge").Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Theory]
    [InlineData(42, 'a')]
    [InlineData(44, 'a')]
    [InlineData(129, 'a')]
    [InlineData(43, '+')]
    [InlineData(43, '/')]
    [InlineData(43, '=')]
    [InlineData(43, ' ')]
    [InlineData(43, '\u00E9')]
    public async Task Challenge_of_wrong_length_or_characters_is_refused(int length, char bad)
    {
        var challenge = new string('a', length - 1) + bad;
        using var response = await Browser.Http.GetAsync(AuthorizeQuery.Valid().With("code_challenge", challenge).Url);
        await AuthorizeAssert.RedirectedErrorAsync(response, Server, "invalid_request");
    }

    [Fact]
    public async Task Right_verifier_redeems_the_code()
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid());
        await AssertRedeemsAsync(code, AuthorizeQuery.Verifier);
    }

    [Fact]
    public async Task Wrong_verifier_is_invalid_grant()
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid());
        await AssertInvalidGrantAsync(code, AuthorizeQuery.Verifier[..^1] + "X");
    }

    [Fact]
    public async Task Missing_verifier_is_invalid_grant()
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid());
        await AssertInvalidGrantAsync(code, verifier: null);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("verifier with spaces that is long enough to pass the length rule")]
    public async Task Malformed_verifier_is_invalid_grant(string verifier)
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid());
        await AssertInvalidGrantAsync(code, verifier);
    }

    [Fact]
    public async Task Downgrade_sending_the_s256_challenge_as_a_plain_verifier_is_invalid_grant()
    {
        var query = AuthorizeQuery.Valid();
        var code = await GetCodeAsync(query);
        var challenge = query.Parameters.Single(p => p.Key == "code_challenge").Value;
        await AssertInvalidGrantAsync(code, challenge);
    }

    [Fact]
    public async Task Code_without_challenge_redeems_without_verifier()
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid(NoPkceClientId).Without("code_challenge").Without("code_challenge_method"));
        await AssertRedeemsAsync(code, verifier: null, NoPkceClientId);
    }

    [Fact]
    public async Task Verifier_for_a_code_issued_without_challenge_is_invalid_grant()
    {
        // RFC 9700 §4.8.2: otherwise an injected code without PKCE passes alongside the victim's verifier.
        var code = await GetCodeAsync(AuthorizeQuery.Valid(NoPkceClientId).Without("code_challenge").Without("code_challenge_method"));
        await AssertInvalidGrantAsync(code, AuthorizeQuery.Verifier, NoPkceClientId);
    }

    [Fact]
    public async Task Failed_verification_spends_the_code()
    {
        var code = await GetCodeAsync(AuthorizeQuery.Valid());
        await AssertInvalidGrantAsync(code, AuthorizeQuery.Verifier + "x");
        await AssertInvalidGrantAsync(code, AuthorizeQuery.Verifier);
    }

    private async Task<string> GetCodeAsync(AuthorizeQuery query)
    {
        var login = await Browser.NavigateAsync(query.Url);
        Assert.Equal("login", login.Page);
        var back = await Browser.SignInAsync(login);
        return back.ResponseParameters["code"];
    }

    private Task<TokenResponse> RedeemAsync(string code, string? verifier, string clientId)
        => Http.RequestAuthorizationCodeTokenAsync(new AuthorizationCodeTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = InteractiveServer.WebSecret,
            Code = code,
            RedirectUri = InteractiveServer.RedirectUri,
            CodeVerifier = verifier,
        });

    private async Task AssertRedeemsAsync(string code, string? verifier, string clientId = InteractiveServer.WebClientId)
    {
        var tokens = await RedeemAsync(code, verifier, clientId);
        Assert.False(tokens.IsError, tokens.Error + " " + tokens.ErrorDescription);
        Assert.NotNull(tokens.AccessToken);
    }

    private async Task AssertInvalidGrantAsync(string code, string? verifier, string clientId = InteractiveServer.WebClientId)
    {
        var tokens = await RedeemAsync(code, verifier, clientId);
        Assert.Equal(HttpStatusCode.BadRequest, tokens.HttpStatusCode);
        Assert.Equal("invalid_grant", tokens.Error);
        Assert.DoesNotContain(code, tokens.Raw, StringComparison.Ordinal);
    }
}
