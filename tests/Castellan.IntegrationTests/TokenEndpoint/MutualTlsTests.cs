using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Security;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// Mutual TLS at the token server (RFC 8705): a real Kestrel with the issuer on plain http and the mTLS aliases on an
/// https endpoint that asks for client certificates; clients present theirs through <see cref="HttpClientHandler"/>.
/// The certificates are made by the test: a CA the server trusts, one it does not, self-signed ones.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string Subject = "CN=client.example, O=Example";
    private const string CaClientId = "mtls-ca";
    private const string SelfSignedClientId = "mtls-self";
    private const string Sha256ClientId = "mtls-self-sha256";
    private const string JwkClientId = "mtls-jwk";
    private const string ReferenceClientId = "mtls-reference";
    private const string PublicClientId = "mtls-public";
    private const string SecretClientId = "secret-only";
    private const string Secret = "secret-only-secret";

    private readonly TempDirectory _root = new();
    private readonly LogCollector _logs = new();
    private readonly X509Certificate2 _ca = TestCertificates.CreateCertificateAuthority("CN=Castellan Test Client CA");
    private readonly X509Certificate2 _otherCa = TestCertificates.CreateCertificateAuthority("CN=Someone Else's CA");
    private readonly X509Certificate2 _server = TestCertificates.CreateServerCertificate();
    private readonly X509Certificate2 _selfSigned = TestCertificates.CreateSelfSignedClientCertificate("CN=self-signed client");
    private readonly X509Certificate2 _otherSelfSigned = TestCertificates.CreateSelfSignedClientCertificate("CN=self-signed client");
    private X509Certificate2 _issued = null!;
    private X509Certificate2 _issuedByOther = null!;
    private X509Certificate2 _issuedOtherSubject = null!;
    private WebApplication _app = null!;
    private string _issuer = null!;
    private string _alias = null!;

    public async Task InitializeAsync()
    {
        _issued = TestCertificates.IssueClientCertificate(_ca, Subject);
        _issuedByOther = TestCertificates.IssueClientCertificate(_otherCa, Subject);
        _issuedOtherSubject = TestCertificates.IssueClientCertificate(_ca, "CN=another.example, O=Example");
        var issuerPort = TestApp.FreePort();
        var aliasPort = TestApp.FreePort();
        _issuer = $"http://127.0.0.1:{issuerPort}";
        _alias = $"https://127.0.0.1:{aliasPort}";

        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, issuerPort);
            kestrel.Listen(IPAddress.Loopback, aliasPort, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = _server;
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;

                // Castellan checks certificates itself; TLS would refuse the self-signed ones.
                https.AllowAnyClientCertificate();
            }));
        });
        builder.Services.AddSingleton<ILoggerProvider>(_logs);
        builder.Services.AddLogging(logging => logging.AddFilter<LogCollector>(null, LogLevel.Information));
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(_root.Path, "dp")));
        builder.Services.AddCastellan(o =>
            {
                o.IssuerUri = _issuer;
                o.KeyManagement.KeyPath = Path.Combine(_root.Path, "keys");
                o.MutualTls.Enabled = true;
                o.MutualTls.EndpointBaseUrl = _alias;
                o.MutualTls.ChainTrustMode = X509ChainTrustMode.CustomRootTrust;
                o.MutualTls.TrustedRootCertificates.Add(_ca);
            })
            .AddInMemoryApiScopes([new ApiScope("api1")])
            .AddInMemoryApiResources([new ApiResource("api1") { Scopes = { "api1" }, ApiSecrets = { Castellan.Secret.FromPlainText(TokenServer.Api1Secret) } }])
            .AddTestUsers([new TestUser { SubjectId = "alice-1", Username = "alice", Password = "alice-password" }])
            .AddInMemoryClients(
            [
                Machine(CaClientId, new Secret { Type = SecretTypes.X509Name, Value = Subject }),
                Machine(SelfSignedClientId, new Secret { Type = SecretTypes.X509Thumbprint, Value = _selfSigned.Thumbprint }),
                Machine(Sha256ClientId, new Secret { Type = SecretTypes.X509Thumbprint, Value = TestCertificates.Sha256Hex(_selfSigned).ToLowerInvariant() }),
                Machine(JwkClientId, new Secret { Type = SecretTypes.JsonWebKey, Value = JwkWithX5c(_selfSigned) }, Castellan.Protocol.ClientAuthenticationMethods.SelfSignedTlsClientAuth),
                Reference(Machine(ReferenceClientId, new Secret { Type = SecretTypes.X509Thumbprint, Value = _selfSigned.Thumbprint })),
                Machine(SecretClientId, Castellan.Secret.FromPlainText(Secret)),
                new Client
                {
                    ClientId = PublicClientId,
                    RequireClientSecret = false,
                    AllowedGrantTypes = { GrantTypes.Password },
                    AllowedScopes = { "api1" },
                    AllowOfflineAccess = true,
                },
            ]);

        _app = builder.Build();
        _app.MapCastellan();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _root.Dispose();
        foreach (var certificate in new[] { _ca, _otherCa, _server, _selfSigned, _otherSelfSigned, _issued, _issuedByOther, _issuedOtherSubject })
        {
            certificate.Dispose();
        }
    }

    private static Client Machine(string id, Secret secret, params string[] methods)
    {
        var client = new Client
        {
            ClientId = id,
            ClientSecrets = { secret },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        };
        foreach (var method in methods)
        {
            client.AllowedAuthenticationMethods.Add(method);
        }

        return client;
    }

    private static Client Reference(Client client)
    {
        client.AccessTokenType = AccessTokenType.Reference;
        return client;
    }

    /// <summary>The certificate's public key as a JWK, with the certificate in <c>x5c</c>.</summary>
    private static string JwkWithX5c(X509Certificate2 certificate)
    {
        var rsa = certificate.GetRSAPublicKey()!.ExportParameters(false);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kty"] = "RSA",
            ["n"] = Base64UrlEncoder.Encode(rsa.Modulus),
            ["e"] = Base64UrlEncoder.Encode(rsa.Exponent),
            ["x5c"] = new[] { Convert.ToBase64String(certificate.RawData) },
        });
    }

    /// <summary>A client of the alias endpoint presenting <paramref name="certificate"/> (none when null).</summary>
    private HttpClient AliasClient(X509Certificate2? certificate)
        => new(TestCertificates.Handler(_server, certificate)) { BaseAddress = new Uri(_alias + "/") };

    private async Task<TokenResponse> ClientCredentialsAsync(X509Certificate2? certificate, string clientId, string? dpopProof = null)
    {
        using var http = AliasClient(certificate);
        return await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Scope = "api1",
            DPoPProofToken = dpopProof,
        });
    }

    private static JsonElement Confirmation(string accessToken)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(new JsonWebToken(accessToken).EncodedPayload));
        return payload.RootElement.TryGetProperty("cnf", out var cnf) ? cnf.Clone() : default;
    }

    private static string? X5t(string accessToken)
        => Confirmation(accessToken) is { ValueKind: JsonValueKind.Object } cnf && cnf.TryGetProperty(CertificateThumbprint.ConfirmationMember, out var x5t) ? x5t.GetString() : null;

    private static void AssertBound(TokenResponse response, X509Certificate2 certificate)
    {
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal("Bearer", response.TokenType);
        Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(certificate), X5t(response.AccessToken!));
    }

    /// <param name="logged">What the log says was wrong: the caller only ever learns invalid_client.</param>
    private void AssertInvalidClient(TokenResponse response, string logged)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.HttpStatusCode);

        // Duende reports a 401 as an HTTP error; the body holds the OAuth error (RFC 6749 §5.2).
        using var body = JsonDocument.Parse(response.Raw!);
        Assert.Equal("invalid_client", body.RootElement.GetProperty("error").GetString());
        Assert.Contains(_logs.Entries, e => e.Message.Contains(logged, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tls_client_auth_with_the_registered_subject_from_the_trusted_CA_gets_a_token_bound_to_the_certificate()
        => AssertBound(await ClientCredentialsAsync(_issued, CaClientId), _issued);

    [Fact]
    public async Task Self_signed_tls_client_auth_with_the_registered_SHA1_thumbprint_gets_a_bound_token()
        => AssertBound(await ClientCredentialsAsync(_selfSigned, SelfSignedClientId), _selfSigned);

    [Fact]
    public async Task Self_signed_tls_client_auth_takes_a_lower_case_SHA256_thumbprint()
        => AssertBound(await ClientCredentialsAsync(_selfSigned, Sha256ClientId), _selfSigned);

    [Fact]
    public async Task Self_signed_tls_client_auth_takes_the_certificate_of_a_JWK_secrets_x5c()
        => AssertBound(await ClientCredentialsAsync(_selfSigned, JwkClientId), _selfSigned);

    [Fact]
    public async Task A_certificate_with_the_right_subject_from_an_untrusted_CA_is_invalid_client()
        => AssertInvalidClient(await ClientCredentialsAsync(_issuedByOther, CaClientId), "chain is not trusted");

    [Fact]
    public async Task A_certificate_from_the_trusted_CA_with_another_subject_is_invalid_client()
        => AssertInvalidClient(await ClientCredentialsAsync(_issuedOtherSubject, CaClientId), "subject 'CN=another.example, O=Example' is not one registered");

    [Fact]
    public async Task A_self_signed_certificate_is_not_a_tls_client_auth_certificate()
        => AssertInvalidClient(await ClientCredentialsAsync(_selfSigned, CaClientId), "subject 'CN=self-signed client' is not one registered");

    [Fact]
    public async Task Another_self_signed_certificate_with_the_same_subject_is_invalid_client()
    {
        AssertInvalidClient(await ClientCredentialsAsync(_otherSelfSigned, SelfSignedClientId), $"client '{SelfSignedClientId}' (self_signed_tls_client_auth): the certificate");
        AssertInvalidClient(await ClientCredentialsAsync(_otherSelfSigned, Sha256ClientId), $"client '{Sha256ClientId}' (self_signed_tls_client_auth): the certificate");
        AssertInvalidClient(await ClientCredentialsAsync(_otherSelfSigned, JwkClientId), $"client '{JwkClientId}' (self_signed_tls_client_auth): the certificate");
    }

    [Fact]
    public async Task No_certificate_is_invalid_client_for_both_methods()
    {
        // Without a certificate only `none` reads a bare client_id, and these clients are not public.
        AssertInvalidClient(await ClientCredentialsAsync(null, CaClientId), $"client '{CaClientId}' (none)");
        AssertInvalidClient(await ClientCredentialsAsync(null, SelfSignedClientId), $"client '{SelfSignedClientId}' (none)");
    }

    [Fact]
    public async Task The_certificate_is_not_read_on_the_plain_endpoint_so_the_client_id_alone_is_invalid_client()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_issuer + "/") };
        var response = await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = SelfSignedClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Scope = "api1",
        });
        AssertInvalidClient(response, $"client '{SelfSignedClientId}' (none)");
    }

    [Fact]
    public async Task A_certificate_beside_a_shared_secret_authenticates_nothing_and_binds_nothing()
    {
        // The client allows no mTLS method: the certificate is not its credential, its secret is, and by default a
        // token is bound only to a certificate the client authenticated with.
        using var http = AliasClient(_selfSigned);
        var response = await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = SecretClientId,
            ClientSecret = Secret,
            Scope = "api1",
        });
        Assert.False(response.IsError, response.Error);
        Assert.Null(X5t(response.AccessToken!));

        // Without its secret, the certificate does not stand in for it.
        AssertInvalidClient(await ClientCredentialsAsync(_selfSigned, SecretClientId), $"client '{SecretClientId}' (tls_client_auth)");
    }

    [Fact]
    public async Task An_mtls_client_sending_a_secret_too_is_refused()
    {
        using var http = AliasClient(_selfSigned);
        var response = await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = SelfSignedClientId,
            ClientSecret = "guess",
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Scope = "api1",
        });
        AssertInvalidClient(response, $"client '{SelfSignedClientId}' (client_secret_post)");
    }

    [Fact]
    public async Task Discovery_lists_the_methods_the_bound_tokens_and_the_aliases()
    {
        using var http = new HttpClient();
        var discovery = await http.GetDiscoveryDocumentAsync(new DiscoveryDocumentRequest
        {
            Address = _issuer,
            Policy = { RequireHttps = false },
        });
        Assert.False(discovery.IsError, discovery.Error);
        var json = discovery.Json!.Value;
        Assert.True(json.GetProperty("tls_client_certificate_bound_access_tokens").GetBoolean());
        var methods = json.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains("tls_client_auth", methods);
        Assert.Contains("self_signed_tls_client_auth", methods);
        Assert.Contains("self_signed_tls_client_auth", json.GetProperty("introspection_endpoint_auth_methods_supported").EnumerateArray().Select(m => m.GetString()));

        var aliases = json.GetProperty("mtls_endpoint_aliases");
        Assert.Equal(_alias + "/connect/token", aliases.GetProperty("token_endpoint").GetString());
        Assert.Equal(_alias + "/connect/introspect", aliases.GetProperty("introspection_endpoint").GetString());
        Assert.Equal(_alias + "/connect/revocation", aliases.GetProperty("revocation_endpoint").GetString());
        Assert.Equal(_alias + "/connect/userinfo", aliases.GetProperty("userinfo_endpoint").GetString());

        // The ordinary URLs stay the issuer's, also when discovery is read at the alias.
        Assert.Equal(_issuer + "/connect/token", discovery.TokenEndpoint);
        using var aliasHttp = AliasClient(null);
        using var atAlias = JsonDocument.Parse(await aliasHttp.GetStringAsync(".well-known/openid-configuration"));
        Assert.Equal(_issuer, atAlias.RootElement.GetProperty("issuer").GetString());
    }

    [Fact]
    public async Task A_bound_token_is_issued_with_the_configured_issuer_at_the_alias()
    {
        var response = await ClientCredentialsAsync(_issued, CaClientId);
        Assert.False(response.IsError, response.Error);
        Assert.Equal(_issuer, new JsonWebToken(response.AccessToken!).Issuer);
    }

    [Fact]
    public async Task Introspection_returns_the_cnf_of_bound_JWT_and_reference_tokens()
    {
        var jwt = await ClientCredentialsAsync(_selfSigned, SelfSignedClientId);
        var reference = await ClientCredentialsAsync(_selfSigned, ReferenceClientId);
        Assert.False(reference.IsError, reference.Error);
        var expected = CertificateThumbprint.ComputeSha256Base64Url(_selfSigned);

        foreach (var token in new[] { jwt.AccessToken!, reference.AccessToken! })
        {
            var introspection = await IntrospectAsApiAsync(token);
            Assert.False(introspection.IsError, introspection.Error);
            Assert.True(introspection.IsActive);
            var root = introspection.Json!.Value;
            Assert.Equal(expected, root.GetProperty("cnf").GetProperty(CertificateThumbprint.ConfirmationMember).GetString());

            // RFC 8705 tokens are bearer tokens on the wire; only a DPoP key makes token_type DPoP.
            Assert.Equal("Bearer", root.GetProperty("token_type").GetString());
        }
    }

    /// <summary>The API introspects at the ordinary endpoint with its secret.</summary>
    private async Task<TokenIntrospectionResponse> IntrospectAsApiAsync(string token)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_issuer + "/") };
        return await http.IntrospectTokenAsync(new TokenIntrospectionRequest
        {
            Address = "connect/introspect",
            ClientId = "api1",
            ClientSecret = TokenServer.Api1Secret,
            Token = token,
        });
    }

    [Fact]
    public async Task An_mtls_client_introspects_at_the_alias_with_its_certificate()
    {
        var token = await ClientCredentialsAsync(_issued, CaClientId);
        async Task<TokenIntrospectionResponse> IntrospectAsync(X509Certificate2? certificate)
        {
            using var http = AliasClient(certificate);
            return await http.IntrospectTokenAsync(new TokenIntrospectionRequest
            {
                Address = "connect/introspect",
                ClientId = CaClientId,
                ClientCredentialStyle = ClientCredentialStyle.PostBody,
                Token = token.AccessToken!,
            });
        }

        var introspection = await IntrospectAsync(_issued);
        Assert.False(introspection.IsError, introspection.Error);
        Assert.True(introspection.IsActive);

        // Introspection takes no `none`: without the certificate the client_id alone authenticates nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, (await IntrospectAsync(null)).HttpStatusCode);
    }

    private async Task<TokenResponse> PasswordAsync(X509Certificate2? certificate)
    {
        using var http = AliasClient(certificate);
        return await http.RequestPasswordTokenAsync(new PasswordTokenRequest
        {
            Address = "connect/token",
            ClientId = PublicClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            UserName = "alice",
            Password = "alice-password",
            Scope = "api1 offline_access",
        });
    }

    private async Task<TokenResponse> RefreshAsync(X509Certificate2? certificate, string refreshToken)
    {
        using var http = AliasClient(certificate);
        return await http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = "connect/token",
            ClientId = PublicClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            RefreshToken = refreshToken,
        });
    }

    [Fact]
    public async Task A_public_clients_refresh_token_is_bound_to_its_certificate()
    {
        var issued = await PasswordAsync(_selfSigned);
        AssertBound(issued, _selfSigned);
        Assert.NotNull(issued.RefreshToken);

        var withOther = await RefreshAsync(_otherSelfSigned, issued.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, withOther.HttpStatusCode);
        Assert.Equal("invalid_grant", withOther.Error);

        var withNone = await RefreshAsync(null, issued.RefreshToken!);
        Assert.Equal(HttpStatusCode.BadRequest, withNone.HttpStatusCode);
        Assert.Equal("invalid_grant", withNone.Error);

        // The refusals neither consumed nor revoked it; its own certificate still refreshes, and the binding carries on.
        var refreshed = await RefreshAsync(_selfSigned, issued.RefreshToken!);
        AssertBound(refreshed, _selfSigned);
        var again = await RefreshAsync(_otherSelfSigned, refreshed.RefreshToken!);
        Assert.Equal("invalid_grant", again.Error);
    }

    [Fact]
    public async Task A_public_clients_refresh_token_issued_without_a_certificate_is_not_bound()
    {
        var issued = await PasswordAsync(null);
        Assert.False(issued.IsError, issued.Error);
        Assert.Null(X5t(issued.AccessToken!));
        var refreshed = await RefreshAsync(_selfSigned, issued.RefreshToken!);
        Assert.False(refreshed.IsError, refreshed.Error);
    }

    private static string Proof(ECDsa key, string htu)
    {
        var parameters = key.ExportParameters(false);
        var header = new Dictionary<string, object>
        {
            ["typ"] = DPoPConstants.ProofType,
            ["jwk"] = new Dictionary<string, object>
            {
                ["kty"] = "EC",
                ["crv"] = "P-256",
                ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
                ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
            },
        };
        var payload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = "POST",
            ["htu"] = htu,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        });
        return new JsonWebTokenHandler().CreateToken(payload, new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256), header);
    }

    [Fact]
    public async Task DPoP_at_the_alias_names_the_alias_url_and_binds_the_token_to_key_and_certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await ClientCredentialsAsync(_selfSigned, SelfSignedClientId, Proof(key, _alias + "/connect/token"));

        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, response.TokenType);
        var cnf = Confirmation(response.AccessToken!);
        Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_selfSigned), cnf.GetProperty(CertificateThumbprint.ConfirmationMember).GetString());
        Assert.False(string.IsNullOrEmpty(cnf.GetProperty("jkt").GetString()));

        // RFC 9449 §4.3: htu is the URL the request went to; the issuer's token URL is another one.
        var wrongUrl = await ClientCredentialsAsync(_selfSigned, SelfSignedClientId, Proof(key, _issuer + "/connect/token"));
        Assert.Equal(DPoPConstants.InvalidDPoPProof, wrongUrl.Error);
    }

    private async Task<HttpResponseMessage> PostAsync(X509Certificate2? certificate, string body)
    {
        using var http = AliasClient(certificate);
        using var content = new StringContent(body, new MediaTypeHeaderValue("application/x-www-form-urlencoded"));
        return await http.PostAsync("connect/token", content);
    }

    [Fact]
    public async Task Duplicated_client_id_with_a_certificate_is_invalid_request()
    {
        using var response = await PostAsync(_selfSigned, $"grant_type=client_credentials&client_id={SelfSignedClientId}&client_id={SelfSignedClientId}");
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Oversized_unknown_and_hostile_client_ids_with_a_certificate_are_invalid_client()
    {
        foreach (var clientId in new[] { new string('a', 10_000), "unknown", "%00%0A%FF", "mtls-self%0D%0AX-Injected:1" })
        {
            using var response = await PostAsync(_selfSigned, "grant_type=client_credentials&client_id=" + clientId);
            await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        }
    }

    [Fact]
    public async Task A_certificate_without_client_id_is_invalid_client()
    {
        using var response = await PostAsync(_selfSigned, "grant_type=client_credentials&client_id=");
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Revocation_at_the_alias_authenticates_with_the_certificate()
    {
        var token = await ClientCredentialsAsync(_selfSigned, ReferenceClientId);
        Assert.True((await IntrospectAsApiAsync(token.AccessToken!)).IsActive);
        using var http = AliasClient(_selfSigned);
        var revoked = await http.RevokeTokenAsync(new TokenRevocationRequest
        {
            Address = "connect/revocation",
            ClientId = ReferenceClientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Token = token.AccessToken!,
        });
        Assert.False(revoked.IsError, revoked.Error);

        Assert.False((await IntrospectAsApiAsync(token.AccessToken!)).IsActive);
    }
}

