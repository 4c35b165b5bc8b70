using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Security;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.TokenEndpoint;

// Certificate-bound access tokens at an API (RFC 8705 §3): the token server above issues them over its mTLS alias,
// and an API protected by Castellan.ApiProtection accepts one only from a caller presenting the same certificate,
// in the TLS handshake with Kestrel or in a header from a proxy through ASP.NET Core's certificate forwarding.
public sealed partial class MutualTlsTests
{
    private const string ForwardedCertificateHeader = "X-Client-Cert";
    private const string BoundCertificateRefused = "The access token is bound to a client certificate this request did not present.";

    [Fact]
    public async Task Api_accepts_a_certificate_bound_jwt_from_the_caller_presenting_its_certificate()
    {
        var token = await BoundTokenAsync(SelfSignedClientId);
        await using var api = await StartMutualTlsApiAsync(forwarded: false);

        using (var data = await CallApiAsync(api, "data", token, _selfSigned))
        {
            Assert.Equal(HttpStatusCode.OK, data.StatusCode);
            Assert.Equal(SelfSignedClientId, await data.Content.ReadAsStringAsync());
        }

        // The scheme marked the request as sender-constrained, with the certificate's thumbprint.
        using var bound = await CallApiAsync(api, "bound-only", token, _selfSigned);
        Assert.Equal(HttpStatusCode.OK, bound.StatusCode);
        Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_selfSigned), await bound.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_refuses_a_certificate_bound_jwt_with_another_certificate_or_none_as_invalid_token()
    {
        var token = await BoundTokenAsync(SelfSignedClientId);
        await using var api = await StartMutualTlsApiAsync(forwarded: false);

        // The other certificate has the same subject and a key of its own: only the thumbprint tells them apart.
        using (var other = await CallApiAsync(api, "data", token, _otherSelfSigned))
        {
            AssertBoundCertificateRefused(other);
        }

        using var none = await CallApiAsync(api, "data", token, certificate: null);
        AssertBoundCertificateRefused(none);
    }

    [Fact]
    public async Task Api_accepts_a_certificate_bound_reference_token_through_the_cnf_introspection_returns()
    {
        var token = await BoundTokenAsync(ReferenceClientId);
        Assert.DoesNotContain('.', token);
        await using var api = await StartMutualTlsApiAsync(forwarded: false);

        using (var right = await CallApiAsync(api, "data", token, _selfSigned))
        {
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
            Assert.Equal(ReferenceClientId, await right.Content.ReadAsStringAsync());
        }

        using var wrong = await CallApiAsync(api, "data", token, _otherSelfSigned);
        AssertBoundCertificateRefused(wrong);
    }

    [Fact]
    public async Task A_bearer_token_passes_scope_checks_but_not_an_endpoint_that_requires_a_sender_constrained_token()
    {
        using var issuer = new HttpClient { BaseAddress = new Uri(_issuer + "/") };
        var bearer = await TestTokens.GetAccessTokenAsync(issuer, SecretClientId, Secret, "api1");
        await using var api = await StartMutualTlsApiAsync(forwarded: false);

        using (var data = await CallApiAsync(api, "data", bearer, _selfSigned))
        {
            Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        }

        // Authenticated, so not a 401; the policy's requirement fails: 403.
        using var bound = await CallApiAsync(api, "bound-only", bearer, _selfSigned);
        Assert.Equal(HttpStatusCode.Forbidden, bound.StatusCode);
    }

    [Fact]
    public async Task Behind_a_proxy_the_forwarded_certificate_is_the_one_compared()
    {
        var token = await BoundTokenAsync(SelfSignedClientId);
        await using var api = await StartMutualTlsApiAsync(forwarded: true);

        using (var right = await CallApiAsync(api, "data", token, certificate: null, forwarded: _selfSigned))
        {
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
            Assert.Equal(SelfSignedClientId, await right.Content.ReadAsStringAsync());
        }

        using (var bound = await CallApiAsync(api, "bound-only", token, certificate: null, forwarded: _selfSigned))
        {
            Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_selfSigned), await bound.Content.ReadAsStringAsync());
        }

        using (var other = await CallApiAsync(api, "data", token, certificate: null, forwarded: _otherSelfSigned))
        {
            AssertBoundCertificateRefused(other);
        }

        using var none = await CallApiAsync(api, "data", token, certificate: null);
        AssertBoundCertificateRefused(none);
    }

    private async Task<string> BoundTokenAsync(string clientId)
    {
        var response = await ClientCredentialsAsync(_selfSigned, clientId);
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        return response.AccessToken!;
    }

    private static void AssertBoundCertificateRefused(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single(c => c.Scheme == "Bearer").Parameter ?? "";
        Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains($"error_description=\"{BoundCertificateRefused}\"", challenge, StringComparison.Ordinal);
    }

    /// <summary>
    /// An API on Kestrel: over https asking for client certificates (any certificate: the token's binding is the
    /// check), or, <paramref name="forwarded"/>, over plain http behind a "proxy" that puts the certificate in
    /// <see cref="ForwardedCertificateHeader"/>.
    /// </summary>
    private async Task<MutualTlsApi> StartMutualTlsApiAsync(bool forwarded)
    {
        var port = TestApp.FreePort();
        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            if (!forwarded)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = _server;
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.AllowAnyClientCertificate();
                });
            }
        }));
        if (forwarded)
        {
            // The header carries the certificate as base64 DER, the middleware's default format.
            builder.Services.AddCertificateForwarding(o => o.CertificateHeader = ForwardedCertificateHeader);
        }

        builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(options =>
        {
            options.Authority = _issuer;
            options.Audiences = ["api1"];
            options.ApiSecret = TokenServer.Api1Secret;
        });
        var app = builder.Build();
        if (forwarded)
        {
            // Before authentication, which reads the certificate: without explicit calls WebApplication would run
            // authentication first, before any middleware of the app's.
            app.UseCertificateForwarding();
            app.UseAuthentication();
            app.UseAuthorization();
        }

        app.MapGet("/data", (HttpContext context) => context.User.FindFirst("client_id")?.Value).RequireScope("api1");
        app.MapGet("/bound-only", (HttpContext context) => context.Features.Get<SenderConstraintFeature>()?.CertificateThumbprint)
            .RequireSenderConstrainedToken();
        await app.StartAsync();
        return new MutualTlsApi(app, $"{(forwarded ? "http" : "https")}://127.0.0.1:{port}");
    }

    private async Task<HttpResponseMessage> CallApiAsync(MutualTlsApi api, string path, string token, X509Certificate2? certificate,
        X509Certificate2? forwarded = null)
    {
        using var http = api.BaseAddress.StartsWith("https", StringComparison.Ordinal)
            ? new HttpClient(TestCertificates.Handler(_server, certificate))
            : new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, api.BaseAddress + "/" + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (forwarded is not null)
        {
            request.Headers.Add(ForwardedCertificateHeader, Convert.ToBase64String(forwarded.RawData));
        }

        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private sealed class MutualTlsApi(WebApplication app, string baseAddress) : IAsyncDisposable
    {
        public string BaseAddress { get; } = baseAddress;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
