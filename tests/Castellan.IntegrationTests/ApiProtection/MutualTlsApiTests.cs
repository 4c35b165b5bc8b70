using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Security;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// Certificate-bound access tokens at an API (RFC 8705 §3): a client authenticates with
/// <c>self_signed_tls_client_auth</c> at a real token server's mTLS alias, so its token carries
/// <c>cnf.x5t#S256</c>, and calls an API protected by <c>AddCastellanApi</c>: on Kestrel over https asking for client
/// certificates, or on plain http behind a "proxy" that forwards the certificate in a header
/// (<c>AddCertificateForwarding</c>, docs/api-protection.md). Only the certificate the token names gets through.
/// </summary>
public sealed class MutualTlsApiTests : IAsyncLifetime
{
    private const string JwtClientId = "mtls-api-client";
    private const string ReferenceClientId = "mtls-api-ref-client";
    private const string ForwardedHeader = "X-Client-Cert";

    /// <summary>What the scheme answers for a certificate-bound token without its certificate (ProofOfPossessionVerifier).</summary>
    private const string CertificateRefused =
        "Bearer error=\"invalid_token\", error_description=\"The access token is bound to a client certificate this request did not present.\"";

    private readonly TempDirectory _root = new();
    private readonly X509Certificate2 _serverCertificate = TestCertificates.CreateServerCertificate();
    private readonly X509Certificate2 _client = TestCertificates.CreateSelfSignedClientCertificate("CN=mtls api client");

    // The same subject, another key: only the thumbprint tells them apart, as it must.
    private readonly X509Certificate2 _other = TestCertificates.CreateSelfSignedClientCertificate("CN=mtls api client");
    private TestApp _tokenService = null!;
    private string _alias = null!;

    public async Task InitializeAsync()
    {
        (_tokenService, _alias) = await TokenServer.StartWithMutualTlsAsync(_root, _serverCertificate, castellan => castellan.AddInMemoryClients(
        [
            Client(JwtClientId, AccessTokenType.Jwt),
            Client(ReferenceClientId, AccessTokenType.Reference),
        ]));
    }

    public async Task DisposeAsync()
    {
        await _tokenService.DisposeAsync();
        _root.Dispose();
        _serverCertificate.Dispose();
        _client.Dispose();
        _other.Dispose();
    }

    private Client Client(string id, AccessTokenType tokenType) => new()
    {
        ClientId = id,
        ClientSecrets = { new Secret { Type = SecretTypes.X509Thumbprint, Value = _client.Thumbprint } },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { "api1" },
        AccessTokenType = tokenType,
    };

    /// <summary><c>GET /bound-only</c> takes sender-constrained tokens only and answers the certificate thumbprint the scheme proved.</summary>
    private static void MapBoundOnly(WebApplication app)
        => app.MapGet("/bound-only", (HttpContext context) => context.Features.Get<SenderConstraintFeature>()?.CertificateThumbprint ?? "(none)")
            .RequireSenderConstrainedToken();

    /// <summary>The API on https, asking for client certificates and letting any through: the scheme judges them against cnf.</summary>
    private Task<TestApp> StartTlsApiAsync()
        => TestApi.StartAsync(_root.Path, _tokenService.BaseAddress, services: services => services.Configure<KestrelServerOptions>(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = _serverCertificate;
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }))), map: MapBoundOnly);

    /// <summary>The API on plain http behind a TLS-terminating proxy that passes the client certificate, base64 DER, in <see cref="ForwardedHeader"/>.</summary>
    private Task<TestApp> StartForwardedApiAsync()
        => TestApi.StartAsync(_root.Path, _tokenService.BaseAddress,
            services: services => services.AddCertificateForwarding(o => o.CertificateHeader = ForwardedHeader),
            map: app =>
            {
                // Before authentication, so the scheme finds the forwarded certificate on the connection.
                app.UseCertificateForwarding();
                app.UseAuthentication();
                app.UseAuthorization();
                MapBoundOnly(app);
            });

    /// <summary>A token for <paramref name="clientId"/> from the mTLS alias, authenticated (and so bound) by <see cref="_client"/>.</summary>
    private async Task<string> BoundTokenAsync(string clientId)
    {
        using var http = new HttpClient(TestCertificates.Handler(_serverCertificate, _client)) { BaseAddress = new Uri(_alias + "/") };
        var response = await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientCredentialStyle = ClientCredentialStyle.PostBody,
            Scope = "api1",
        });
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal("Bearer", response.TokenType);
        return response.AccessToken!;
    }

    /// <summary>Calls the https API presenting <paramref name="certificate"/> in the TLS handshake (none when null).</summary>
    private async Task<HttpResponseMessage> CallTlsAsync(TestApp api, string path, string token, X509Certificate2? certificate)
    {
        using var http = new HttpClient(TestCertificates.Handler(_serverCertificate, certificate)) { BaseAddress = new Uri(api.BaseAddress + "/") };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return await http.GetAsync(path);
    }

    /// <summary>Calls the forwarded API as the proxy would, with <paramref name="certificate"/> in the header (none when null).</summary>
    private static async Task<HttpResponseMessage> CallForwardedAsync(TestApp api, string path, string token, X509Certificate2? certificate)
    {
        using var http = api.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        if (certificate is not null)
        {
            request.Headers.TryAddWithoutValidation(ForwardedHeader, Convert.ToBase64String(certificate.RawData));
        }

        return await http.SendAsync(request);
    }

    private static string X5t(X509Certificate2 certificate) => CertificateThumbprint.ComputeSha256Base64Url(certificate);

    private static async Task AssertOkAsync(HttpResponseMessage response, string body)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {response.Headers.WwwAuthenticate} {text}");
        Assert.Equal(body, text);
    }

    /// <summary>
    /// 401 with exactly the Bearer challenge naming invalid_token for the certificate, then the DPoP challenge the
    /// API offers besides (RFC 6750 §3, RFC 9449 §7.1: one challenge per scheme, the error under the one used), and no body.
    /// </summary>
    private static async Task AssertCertificateRefusedAsync(TestApp api, HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var algs = string.Join(' ', api.Services.GetRequiredService<ProofOfPossessionVerifier>().SupportedAlgorithms);
        Assert.Equal([CertificateRefused, $"DPoP algs=\"{algs}\""], response.Headers.GetValues("WWW-Authenticate"));
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_token_server_binds_the_token_to_the_certificate_the_client_authenticated_with()
    {
        var token = await BoundTokenAsync(JwtClientId);
        using var cnf = JsonDocument.Parse(new JsonWebToken(token).GetClaim("cnf").Value);
        Assert.Equal(X5t(_client), cnf.RootElement.GetProperty(CertificateThumbprint.ConfirmationMember).GetString());
    }

    [Fact]
    public async Task The_bound_certificate_reaches_the_api_and_satisfies_the_sender_constrained_policy()
    {
        await using var api = await StartTlsApiAsync();
        var token = await BoundTokenAsync(JwtClientId);

        using var data = await CallTlsAsync(api, "data", token, _client);
        await AssertOkAsync(data, JwtClientId);

        // The feature names the certificate the scheme compared with cnf.x5t#S256, and no DPoP key.
        using var bound = await CallTlsAsync(api, "bound-only", token, _client);
        await AssertOkAsync(bound, X5t(_client));
    }

    [Fact]
    public async Task Another_certificate_is_invalid_token_even_after_the_token_was_accepted_and_cached()
    {
        await using var api = await StartTlsApiAsync();
        var token = await BoundTokenAsync(JwtClientId);
        using (var accepted = await CallTlsAsync(api, "data", token, _client))
        {
            await AssertOkAsync(accepted, JwtClientId);
        }

        // The validated-token cache vouches for the signature, never for the sender: the certificate is checked again.
        using var data = await CallTlsAsync(api, "data", token, _other);
        await AssertCertificateRefusedAsync(api, data);
        using var bound = await CallTlsAsync(api, "bound-only", token, _other);
        await AssertCertificateRefusedAsync(api, bound);
    }

    [Fact]
    public async Task No_certificate_is_invalid_token()
    {
        await using var api = await StartTlsApiAsync();
        using var response = await CallTlsAsync(api, "data", await BoundTokenAsync(JwtClientId), null);
        await AssertCertificateRefusedAsync(api, response);
    }

    [Fact]
    public async Task A_bearer_token_without_cnf_is_forbidden_at_a_sender_constrained_endpoint_but_valid_elsewhere()
    {
        await using var api = await StartTlsApiAsync();
        using var tokenHttp = _tokenService.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        Assert.False(new JsonWebToken(token).TryGetClaim("cnf", out _));

        // A certificate on the connection does not make an unbound token sender-constrained.
        using var data = await CallTlsAsync(api, "data", token, _client);
        await AssertOkAsync(data, TokenServer.ClientId);

        // Authenticated, so 403 (not 401), and no challenge: no other token would be accepted under another scheme.
        using var bound = await CallTlsAsync(api, "bound-only", token, _client);
        Assert.Equal(HttpStatusCode.Forbidden, bound.StatusCode);
        Assert.False(bound.Headers.Contains("WWW-Authenticate"));
        Assert.Equal("", await bound.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Behind_a_proxy_the_forwarded_certificate_is_the_one_compared()
    {
        await using var api = await StartForwardedApiAsync();
        var token = await BoundTokenAsync(JwtClientId);

        using (var data = await CallForwardedAsync(api, "data", token, _client))
        {
            await AssertOkAsync(data, JwtClientId);
        }

        using (var bound = await CallForwardedAsync(api, "bound-only", token, _client))
        {
            await AssertOkAsync(bound, X5t(_client));
        }

        using (var other = await CallForwardedAsync(api, "data", token, _other))
        {
            await AssertCertificateRefusedAsync(api, other);
        }

        using var none = await CallForwardedAsync(api, "data", token, null);
        await AssertCertificateRefusedAsync(api, none);
    }

    [Fact]
    public async Task A_bound_reference_token_is_checked_against_the_cnf_introspection_returns()
    {
        await using var api = await StartTlsApiAsync();
        var token = await BoundTokenAsync(ReferenceClientId);
        Assert.DoesNotContain('.', token);

        using (var right = await CallTlsAsync(api, "data", token, _client))
        {
            await AssertOkAsync(right, ReferenceClientId);
        }

        using (var bound = await CallTlsAsync(api, "bound-only", token, _client))
        {
            await AssertOkAsync(bound, X5t(_client));
        }

        // The introspection answer is cached now; the certificate is still checked on every request.
        using (var wrong = await CallTlsAsync(api, "data", token, _other))
        {
            await AssertCertificateRefusedAsync(api, wrong);
        }

        using var none = await CallTlsAsync(api, "data", token, null);
        await AssertCertificateRefusedAsync(api, none);
    }
}
