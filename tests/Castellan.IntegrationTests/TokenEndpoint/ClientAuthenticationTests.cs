using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Stores;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// RFC 6749 §2.3.1 and §5.2: client authentication at the token endpoint with the client credentials grant.
/// </summary>
public sealed class ClientAuthenticationTests : TokenServerTest
{
    private const string DisabledClientId = "disabled";
    private const string ExpiredClientId = "expired";
    private const string RotatedClientId = "rotated";
    private const string NoClientCredentialsClientId = "no-client-credentials";
    private const string PublicClientId = "public";
    private const string PostOnlyClientId = "post-only";

    // RFC 6749 §2.3.1: both are form-urlencoded before they go into the Basic header. ':' '%' '+' ' ' and non-ASCII
    // characters all change meaning if sent raw; "%41" would turn into "A" if the server decoded twice.
    private const string SpecialClientId = "svc:ünï+c%41 id";
    private const string SpecialSecret = "p:a%41ss+wörd €😀 x";

    private readonly LogCollector _logs = new();

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, castellan =>
        {
            castellan.Services.AddSingleton<ILoggerProvider>(_logs);

            // The rejections' reasons are logged at Information, below the test host's default level.
            castellan.Services.AddLogging(logging => logging.AddFilter<LogCollector>(null, LogLevel.Information));
            castellan.AddInMemoryClients(
            [
                new Client
                {
                    ClientId = DisabledClientId,
                    Enabled = false,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = ExpiredClientId,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret, DateTimeOffset.UtcNow.AddHours(-1)) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = RotatedClientId,
                    ClientSecrets =
                    {
                        Secret.FromPlainText("old-secret", DateTimeOffset.UtcNow.AddMinutes(-1)),
                        Secret.FromPlainText("new-secret", DateTimeOffset.UtcNow.AddDays(1)),
                    },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = PostOnlyClientId,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                    AllowedAuthenticationMethods = { "client_secret_post" },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = SpecialClientId,
                    ClientSecrets = { Secret.FromPlainText(SpecialSecret) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
            ]);

            // Startup validation refuses these two in the in-memory configuration (client_credentials is the only
            // grant built, and it needs a secret), but a custom IClientStore can still return them.
            AddUnvalidatedClients(castellan,
                new Client
                {
                    ClientId = NoClientCredentialsClientId,
                    ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                    AllowedGrantTypes = { "authorization_code" },
                    AllowedScopes = { "api1" },
                },
                new Client
                {
                    ClientId = PublicClientId,
                    RequireClientSecret = false,
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                });
        });

    /// <summary>A Basic header with id and secret form-urlencoded first, as RFC 6749 §2.3.1 requires.</summary>

    private static string RawBasic(string credentials) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));

    private async Task<HttpResponseMessage> PostAsync(string? authorization, params (string Name, string Value)[] extra)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        form.AddRange(extra.Select(p => KeyValuePair.Create(p.Name, p.Value)));
        request.Content = new FormUrlEncodedContent(form);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostWithSecretAsync(string clientId, string secret)
        => PostAsync(null, ("client_id", clientId), ("client_secret", secret));

    /// <summary>RFC 6749 §5.2: the client tried the Authorization header, so 401 with a challenge for that scheme.</summary>
    private static async Task AssertBasicChallengeAsync(HttpResponseMessage response)
    {
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Basic", challenge.Scheme);
        Assert.Contains("realm=", challenge.Parameter, StringComparison.Ordinal);
    }

    private static async Task<(string Error, string? Description)> ReadErrorAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var description = json.RootElement.TryGetProperty("error_description", out var d) ? d.GetString() : null;
        return (json.RootElement.GetProperty("error").GetString()!, description);
    }

    private static async Task AssertTokenAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("access_token").GetString()));
    }

    [Fact]
    public async Task A_client_allowed_only_client_secret_post_is_refused_with_basic_and_served_with_post()
    {
        // The right secret, with a method this client is not allowed: refused as any other failure is.
        using var basic = await PostAsync(TestTokens.Basic(PostOnlyClientId, TokenServer.ClientSecret));
        await AssertBasicChallengeAsync(basic);
        Assert.Contains(_logs.Entries, e => e.Message.Contains($"client '{PostOnlyClientId}' may not authenticate with client_secret_basic", StringComparison.Ordinal));

        using var post = await PostWithSecretAsync(PostOnlyClientId, TokenServer.ClientSecret);
        await AssertTokenAsync(post);
    }

    [Fact]
    public async Task Discovery_lists_the_registered_methods_and_revocation_takes_public_clients()
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync(".well-known/openid-configuration"));
        string[] Methods(string name) => [.. json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];

        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"], Methods("token_endpoint_auth_methods_supported"));

        // RFC 7009 §2.1: a public client revokes its own tokens with its client_id; introspection needs a credential.
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"], Methods("revocation_endpoint_auth_methods_supported"));
        Assert.Equal(["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"], Methods("introspection_endpoint_auth_methods_supported"));
    }

    [Fact]
    public async Task Basic_with_the_right_secret_gets_a_token()
    {
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret));
        await AssertTokenAsync(response);
    }

    [Fact]
    public async Task Post_with_the_right_secret_gets_a_token()
    {
        using var response = await PostWithSecretAsync(TokenServer.ClientId, TokenServer.ClientSecret);
        await AssertTokenAsync(response);
    }

    [Theory]
    [InlineData(TokenServer.ClientId, "wrong")]
    [InlineData(TokenServer.ClientId, "SECRET")]
    [InlineData(TokenServer.ClientId, "secret ")]
    [InlineData("nobody", TokenServer.ClientSecret)]
    [InlineData("CLIENT", TokenServer.ClientSecret)]
    [InlineData(TokenServer.ClientId, "")]
    public async Task Basic_with_bad_credentials_returns_invalid_client_with_a_basic_challenge(string clientId, string secret)
    {
        using var response = await PostAsync(TestTokens.Basic(clientId, secret));
        await AssertBasicChallengeAsync(response);
    }

    [Theory]
    [InlineData(TokenServer.ClientId, "wrong")]
    [InlineData("nobody", TokenServer.ClientSecret)]
    [InlineData(TokenServer.ClientId, "")]
    public async Task Post_with_bad_credentials_returns_invalid_client_with_a_basic_challenge(string clientId, string secret)
    {
        // RFC 6749 §5.2 lets the 401 say which schemes the server supports; RFC 9110 §15.5.2 makes a challenge
        // part of every 401. So client_secret_post failures carry the Basic challenge too.
        using var response = await PostWithSecretAsync(clientId, secret);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task Client_id_without_a_secret_returns_invalid_client()
    {
        using var response = await PostAsync(null, ("client_id", TokenServer.ClientId));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task No_credentials_at_all_return_invalid_client()
    {
        using var response = await PostAsync(null, ("scope", "api1"));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Theory]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic Y2xpZW50c2VjcmV0")] // "clientsecret": no colon
    [InlineData("Basic OnNlY3JldA==")] // ":secret": empty client id
    [InlineData("Basic /zpB")] // 0xFF ':' 'A': not UTF-8
    [InlineData("Basic Y2xpZW50OnNlY3JldA")] // "client:secret" without its padding
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Basic    ")]
    [InlineData("basic !!!")]
    public async Task Malformed_basic_header_returns_invalid_client_with_a_basic_challenge(string authorization)
    {
        using var response = await PostAsync(authorization);
        await AssertBasicChallengeAsync(response);
    }

    [Fact]
    public async Task Basic_scheme_name_is_case_insensitive()
    {
        // RFC 9110 §11.1: auth-scheme is case-insensitive.
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret).Replace("Basic", "bAsIc", StringComparison.Ordinal));
        await AssertTokenAsync(response);
    }

    [Theory]
    [InlineData("Bearer x")]
    [InlineData("Digest username=\"client\"")]
    [InlineData("Basicx Y2xpZW50OnNlY3JldA==")]
    public async Task Another_authorization_scheme_returns_invalid_client_with_a_basic_challenge(string authorization)
    {
        // The client tried the Authorization header with a scheme the token endpoint does not take: RFC 6749 §5.2
        // asks for a 401 with WWW-Authenticate, which tells it the scheme that works.
        using var response = await PostAsync(authorization);
        await AssertBasicChallengeAsync(response);
    }

    [Theory]
    [InlineData(2_000)]
    [InlineData(16_000)]
    public async Task Oversized_basic_header_returns_invalid_client(int length)
    {
        // Well-formed base64 of a long "client:xxxx..." value, over the id + secret limits (256 + 512).
        var credentials = TokenServer.ClientId + ":" + new string('x', length);
        using var response = await PostAsync(RawBasic(credentials));
        await AssertBasicChallengeAsync(response);
    }

    [Fact]
    public async Task Secret_at_the_length_limit_is_checked_and_one_over_is_refused_as_malformed()
    {
        using var atLimit = await PostAsync(TestTokens.Basic(TokenServer.ClientId, new string('x', 512)));
        await AssertBasicChallengeAsync(atLimit);
        Assert.Equal("Client authentication failed.", (await ReadErrorAsync(atLimit)).Description);

        using var overLimit = await PostAsync(TestTokens.Basic(TokenServer.ClientId, new string('x', 513)));
        await AssertBasicChallengeAsync(overLimit);
        Assert.Equal("The Basic authorization header is malformed.", (await ReadErrorAsync(overLimit)).Description);
    }

    [Fact]
    public async Task Post_credentials_over_the_length_limits_return_invalid_client()
    {
        using var longId = await PostWithSecretAsync(new string('c', 257), TokenServer.ClientSecret);
        await ProtocolAssert.ErrorAsync(longId, HttpStatusCode.Unauthorized, "invalid_client");

        using var longSecret = await PostWithSecretAsync(TokenServer.ClientId, new string('s', 513));
        await ProtocolAssert.ErrorAsync(longSecret, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Percent_encoded_basic_credentials_with_reserved_and_non_ascii_characters_authenticate()
    {
        using var response = await PostAsync(TestTokens.Basic(SpecialClientId, SpecialSecret));
        await AssertTokenAsync(response);
    }

    [Fact]
    public async Task Form_encoding_with_plus_for_space_is_decoded_in_basic_credentials()
    {
        // application/x-www-form-urlencoded writes a space as '+'; the server must read it back as a space.
        var encoded = $"{Uri.EscapeDataString(SpecialClientId).Replace("%20", "+", StringComparison.Ordinal)}:" +
                      Uri.EscapeDataString(SpecialSecret).Replace("%20", "+", StringComparison.Ordinal);
        using var response = await PostAsync(RawBasic(encoded));
        await AssertTokenAsync(response);
    }

    [Fact]
    public async Task Unencoded_basic_credentials_with_reserved_characters_do_not_authenticate()
    {
        // Sent raw, the secret's '+' reads as a space and "%41" as "A": the secret no longer matches.
        using var response = await PostAsync(RawBasic($"{Uri.EscapeDataString(SpecialClientId)}:{SpecialSecret}"));
        await AssertBasicChallengeAsync(response);
    }

    [Fact]
    public async Task Special_credentials_authenticate_in_the_form_body()
    {
        using var response = await PostWithSecretAsync(SpecialClientId, SpecialSecret);
        await AssertTokenAsync(response);
    }

    [Theory]
    [InlineData(ClientCredentialStyle.AuthorizationHeader)]
    [InlineData(ClientCredentialStyle.PostBody)]
    public async Task Identity_model_authenticates_a_client_with_reserved_and_non_ascii_characters(ClientCredentialStyle style)
    {
        var response = await Http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = Server.BaseAddress + "/connect/token",
            ClientId = SpecialClientId,
            ClientSecret = SpecialSecret,
            ClientCredentialStyle = style,
            Scope = "api1",
        });
        Assert.False(response.IsError, $"{response.Error}: {response.ErrorDescription}");
        Assert.Equal("api1", response.Scope);
        Assert.False(string.IsNullOrEmpty(response.AccessToken));
    }

    [Theory]
    [InlineData(ClientCredentialStyle.AuthorizationHeader)]
    [InlineData(ClientCredentialStyle.PostBody)]
    public async Task Identity_model_sees_invalid_client_for_a_wrong_special_secret(ClientCredentialStyle style)
    {
        var response = await Http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = Server.BaseAddress + "/connect/token",
            ClientId = SpecialClientId,
            ClientSecret = SpecialSecret + "x",
            ClientCredentialStyle = style,
        });
        Assert.True(response.IsError);
        Assert.Equal(HttpStatusCode.Unauthorized, response.HttpStatusCode);
        Assert.Contains("\"error\":\"invalid_client\"", response.Raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TokenServer.ClientSecret)]
    [InlineData("wrong")]
    public async Task Basic_and_client_secret_in_the_body_return_invalid_request(string bodySecret)
    {
        // RFC 6749 §2.3: the client MUST NOT use more than one authentication method in each request.
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret),
            ("client_id", TokenServer.ClientId), ("client_secret", bodySecret));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Basic_and_client_secret_without_client_id_in_the_body_return_invalid_request()
    {
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret), ("client_secret", TokenServer.ClientSecret));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Basic_with_the_same_client_id_in_the_body_gets_a_token()
    {
        // RFC 6749 §3.2.1 lets a client identify itself with client_id; the same id is not a second method.
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret), ("client_id", TokenServer.ClientId));
        await AssertTokenAsync(response);
    }

    [Fact]
    public async Task Client_id_in_the_body_is_compared_with_the_decoded_basic_id()
    {
        // The Basic id is form-urlencoded and the body's client_id is form-decoded: both name the same client.
        using var response = await PostAsync(TestTokens.Basic(SpecialClientId, SpecialSecret), ("client_id", SpecialClientId));
        await AssertTokenAsync(response);
    }

    [Theory]
    [InlineData(TokenServer.ReferenceClientId)]
    [InlineData("nobody")]
    [InlineData("CLIENT")]
    public async Task Basic_with_a_different_client_id_in_the_body_returns_invalid_request(string bodyClientId)
    {
        // Two client identities in one request: refused before any lookup, and without telling whether either exists.
        using var response = await PostAsync(TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret), ("client_id", bodyClientId));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal("The client_id parameter does not match the authenticated client.", (await ReadErrorAsync(response)).Description);
    }

    [Fact]
    public async Task Authorization_header_sent_twice_returns_invalid_request()
    {
        // HttpClient folds repeated Authorization values into one line, so write the request by hand.
        var basic = TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret);
        const string body = "grant_type=client_credentials";
        var uri = new Uri(Server.BaseAddress);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        await using var stream = tcp.GetStream();
        var request = $"POST /connect/token HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n" +
                      $"Authorization: {basic}\r\nAuthorization: {basic}\r\n" +
                      $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"invalid_request\"", response, StringComparison.Ordinal);
        Assert.Contains("The Authorization header was sent more than once.", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_client_returns_invalid_client()
    {
        using var basic = await PostAsync(TestTokens.Basic(DisabledClientId, TokenServer.ClientSecret));
        await AssertBasicChallengeAsync(basic);

        using var post = await PostWithSecretAsync(DisabledClientId, TokenServer.ClientSecret);
        await ProtocolAssert.ErrorAsync(post, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Expired_secret_returns_invalid_client()
    {
        using var basic = await PostAsync(TestTokens.Basic(ExpiredClientId, TokenServer.ClientSecret));
        await AssertBasicChallengeAsync(basic);

        using var post = await PostWithSecretAsync(ExpiredClientId, TokenServer.ClientSecret);
        await ProtocolAssert.ErrorAsync(post, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task During_rotation_only_the_unexpired_secret_authenticates()
    {
        using var oldSecret = await PostAsync(TestTokens.Basic(RotatedClientId, "old-secret"));
        await AssertBasicChallengeAsync(oldSecret);

        using var newSecret = await PostAsync(TestTokens.Basic(RotatedClientId, "new-secret"));
        await AssertTokenAsync(newSecret);
    }

    [Fact]
    public async Task Client_not_allowed_client_credentials_returns_unauthorized_client()
    {
        // RFC 6749 §5.2: the client authenticated but may not use this grant type.
        using var basic = await PostAsync(TestTokens.Basic(NoClientCredentialsClientId, TokenServer.ClientSecret));
        await ProtocolAssert.ErrorAsync(basic, HttpStatusCode.BadRequest, "unauthorized_client");
        Assert.Empty(basic.Headers.WwwAuthenticate);

        using var post = await PostWithSecretAsync(NoClientCredentialsClientId, TokenServer.ClientSecret);
        await ProtocolAssert.ErrorAsync(post, HttpStatusCode.BadRequest, "unauthorized_client");
    }

    [Fact]
    public async Task Grant_check_comes_after_authentication()
    {
        // A wrong secret must not learn which grant types the client has.
        using var response = await PostAsync(TestTokens.Basic(NoClientCredentialsClientId, "wrong"));
        await AssertBasicChallengeAsync(response);
    }

    [Fact]
    public async Task Public_client_cannot_use_client_credentials()
    {
        // RFC 6749 §4.4: the client credentials grant MUST only be used by confidential clients.
        using var response = await PostAsync(null, ("client_id", PublicClientId));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "unauthorized_client");
    }

    [Fact]
    public async Task Failure_does_not_reveal_whether_the_client_exists()
    {
        using var unknownBasic = await PostAsync(TestTokens.Basic("nobody", TokenServer.ClientSecret));
        using var wrongSecretBasic = await PostAsync(TestTokens.Basic(TokenServer.ClientId, "wrong"));
        using var disabledBasic = await PostAsync(TestTokens.Basic(DisabledClientId, TokenServer.ClientSecret));
        using var expiredBasic = await PostAsync(TestTokens.Basic(ExpiredClientId, TokenServer.ClientSecret));
        using var unknownPost = await PostWithSecretAsync("nobody", TokenServer.ClientSecret);
        using var wrongSecretPost = await PostWithSecretAsync(TokenServer.ClientId, "wrong");

        var expected = await ReadErrorAsync(unknownBasic);
        Assert.Equal(("invalid_client", "Client authentication failed."), expected);
        foreach (var response in new[] { wrongSecretBasic, disabledBasic, expiredBasic, unknownPost, wrongSecretPost })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(expected, await ReadErrorAsync(response));
        }

        Assert.Equal(unknownBasic.Headers.WwwAuthenticate.ToString(), wrongSecretBasic.Headers.WwwAuthenticate.ToString());
        Assert.Equal(unknownPost.Headers.WwwAuthenticate.ToString(), wrongSecretPost.Headers.WwwAuthenticate.ToString());
    }

    private static void AddUnvalidatedClients(ICastellanBuilder castellan, params Client[] clients)
    {
        var inMemory = castellan.Services.Last(d => d.ServiceType == typeof(IClientStore));
        castellan.Services.Remove(inMemory);
        castellan.Services.AddSingleton<IClientStore>(sp =>
            new ClientStoreWithExtras((IClientStore)ActivatorUtilities.CreateInstance(sp, inMemory.ImplementationType!), clients));
    }

    /// <summary>The configured clients plus a few that configuration validation would refuse.</summary>
    private sealed class ClientStoreWithExtras(IClientStore inner, Client[] extras) : IClientStore
    {
        public ValueTask<Client?> FindClientByIdAsync(string clientId, CancellationToken cancellationToken)
        {
            var extra = Array.Find(extras, c => string.Equals(c.ClientId, clientId, StringComparison.Ordinal));
            return extra is not null ? ValueTask.FromResult<Client?>(extra) : inner.FindClientByIdAsync(clientId, cancellationToken);
        }
    }
}
