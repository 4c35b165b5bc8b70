using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// <c>Castellan:MutualTls</c> in the host: the alias served by a Kestrel endpoint configured the standard way, the
/// proxy mode (a forwarded certificate header, read only when configured), and the settings that cannot work.
/// </summary>
public sealed class MutualTlsHostTests : IDisposable
{
    private const string ClientId = "mtls-client";
    private const string Header = "X-Client-Cert";

    private readonly TempDirectory _root = new();
    private readonly X509Certificate2 _client = TestCertificates.CreateSelfSignedClientCertificate("CN=host test client");
    private readonly X509Certificate2 _other = TestCertificates.CreateSelfSignedClientCertificate("CN=host test client");

    public void Dispose()
    {
        _client.Dispose();
        _other.Dispose();
        _root.Dispose();
    }

    /// <summary>
    /// A config file with one client registered by its certificates' thumbprints (<c>_client</c>'s unless others are
    /// given), and <paramref name="mutualTls"/> as the MutualTls section.
    /// </summary>
    private string Config(string issuer, string mutualTls, params X509Certificate2[] registered)
    {
        var secrets = string.Join(", ", (registered.Length > 0 ? registered : [_client]).Select(c => $"{{ \"Type\": \"X509Thumbprint\", \"Value\": \"{c.Thumbprint}\" }}"));
        var path = Path.Combine(_root.Path, "castellan.json");
        File.WriteAllText(path, $$"""
        {
          "Castellan": {
            "IssuerUri": "{{issuer}}",
            "MutualTls": {{mutualTls}},
            "ApiScopes": [ { "Name": "api1" } ],
            "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ] } ],
            "Clients": [
              { "ClientId": "{{ClientId}}", "ClientSecrets": [ {{secrets}} ],
                "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] }
            ]
          }
        }
        """);
        return path;
    }

    private static async Task<HttpResponseMessage> TokenAsync(HttpClient http, params string[] certificateHeaders)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = ClientId }),
        };
        foreach (var value in certificateHeaders)
        {
            request.Headers.TryAddWithoutValidation(Header, value);
        }

        return await http.SendAsync(request);
    }

    private static async Task<string> BoundThumbprintAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        var token = new JsonWebToken(json.RootElement.GetProperty("access_token").GetString()!);
        using var cnf = JsonDocument.Parse(token.GetClaim("cnf").Value);
        return cnf.RootElement.GetProperty(CertificateThumbprint.ConfirmationMember).GetString()!;
    }

    private static string Base64Der(X509Certificate2 certificate) => Convert.ToBase64String(certificate.RawData);

    [Fact]
    public async Task A_proxy_forwarded_certificate_authenticates_the_client_and_binds_its_token()
    {
        var port = TestApp.FreePort();
        var issuer = $"http://127.0.0.1:{port}";
        var config = Config(issuer, $$"""{ "Enabled": true, "EndpointBaseUrl": "https://mtls.login.example", "ForwardedCertificateHeader": "{{Header}}" }""");
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(_root.Path, port, "--config", config)));
        using var http = host.CreateClient();

        using var der = await TokenAsync(http, Base64Der(_client));
        Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_client), await BoundThumbprintAsync(der));

        // nginx's $ssl_client_escaped_cert: URL-encoded PEM.
        using var pem = await TokenAsync(http, Uri.EscapeDataString(_client.ExportCertificatePem()));
        Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_client), await BoundThumbprintAsync(pem));

        using var other = await TokenAsync(http, Base64Der(_other));
        await ProtocolAssert.ErrorAsync(other, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Theory]
    [InlineData("not base64 !!!")]
    [InlineData("AAAA")]
    [InlineData("-----BEGIN CERTIFICATE-----%0Agarbage%0A-----END CERTIFICATE-----")]
    [InlineData("%00%0D%0A")]
    public async Task Bad_forwarded_certificates_are_invalid_client_not_a_server_error(string value)
    {
        var port = TestApp.FreePort();
        var config = Config($"http://127.0.0.1:{port}", $$"""{ "Enabled": true, "EndpointBaseUrl": "https://mtls.login.example", "ForwardedCertificateHeader": "{{Header}}" }""");
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(_root.Path, port, "--config", config)));
        using var http = host.CreateClient();

        using var response = await TokenAsync(http, value);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task An_oversized_or_repeated_forwarded_certificate_is_invalid_client()
    {
        // A real certificate, registered for the client, padded with an extension past any client certificate's size.
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=big", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.55555.1", new byte[] { 0x04, 0x82, 0x4E, 0x20 }.Concat(new byte[20_000]).ToArray(), false));
        using var big = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var port = TestApp.FreePort();
        var config = Config($"http://127.0.0.1:{port}", $$"""{ "Enabled": true, "EndpointBaseUrl": "https://mtls.login.example", "ForwardedCertificateHeader": "{{Header}}" }""", big, _client);
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(_root.Path, port, "--config", config)));
        using var http = host.CreateClient();

        using var oversized = await TokenAsync(http, Base64Der(big));
        await ProtocolAssert.ErrorAsync(oversized, HttpStatusCode.Unauthorized, "invalid_client");

        // Valid base64 with a real certificate at its start and padding after it.
        using var padded = await TokenAsync(http, Base64Der(_client) + new string('A', 20_000));
        await ProtocolAssert.ErrorAsync(padded, HttpStatusCode.Unauthorized, "invalid_client");

        // Two copies (the proxy added one, the client sent one): which is the proxy's cannot be told, so neither counts.
        using var once = await TokenAsync(http, Base64Der(_client));
        Assert.Equal(HttpStatusCode.OK, once.StatusCode);
        using var twice = await TokenAsync(http, Base64Der(_client), Base64Der(_client));
        await ProtocolAssert.ErrorAsync(twice, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Without_ForwardedCertificateHeader_no_header_is_read()
    {
        var port = TestApp.FreePort();
        var config = Config($"http://127.0.0.1:{port}", """{ "Enabled": true, "EndpointBaseUrl": "https://mtls.login.example" }""");
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(_root.Path, port, "--config", config)));
        using var http = host.CreateClient();

        using var named = await TokenAsync(http, Base64Der(_client));
        await ProtocolAssert.ErrorAsync(named, HttpStatusCode.Unauthorized, "invalid_client");

        // Nor the forwarding middleware's default header.
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = ClientId }),
        };
        request.Headers.TryAddWithoutValidation("X-ARR-ClientCert", Base64Der(_client));
        using var arr = await http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(arr, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Mutual_tls_is_off_by_default_in_discovery()
    {
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(_root.Path)));
        using var http = host.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        var root = discovery.RootElement;

        Assert.False(root.TryGetProperty("mtls_endpoint_aliases", out _));
        Assert.False(root.TryGetProperty("tls_client_certificate_bound_access_tokens", out _));
        Assert.DoesNotContain(root.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray(), m => m.GetString()!.Contains("tls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_alias_is_served_by_a_kestrel_endpoint_from_configuration_that_asks_for_client_certificates()
    {
        using var server = TestCertificates.CreateServerCertificate();
        var pfx = Path.Combine(_root.Path, "server.pfx");
        await File.WriteAllBytesAsync(pfx, server.Export(X509ContentType.Pkcs12, "server-password"));
        var httpPort = TestApp.FreePort();
        var aliasPort = TestApp.FreePort();
        var issuer = $"http://127.0.0.1:{httpPort}";
        var alias = $"https://127.0.0.1:{aliasPort}";
        var config = Config(issuer, $$"""{ "Enabled": true, "EndpointBaseUrl": "{{alias}}" }""");

        var app = CastellanHostApp.Build(TestApp.HostArgs(_root.Path, httpPort, "--config", config,
            $"--Kestrel:Endpoints:Http:Url={issuer}",
            $"--Kestrel:Endpoints:Mtls:Url={alias}",
            $"--Kestrel:Endpoints:Mtls:Certificate:Path={pfx}",
            "--Kestrel:Endpoints:Mtls:Certificate:Password=server-password",
            "--Kestrel:Endpoints:Mtls:ClientCertificateMode=AllowCertificate"));
        await app.StartAsync();
        try
        {
            using var withCertificate = new HttpClient(TestCertificates.Handler(server, _client)) { BaseAddress = new Uri(alias + "/") };
            using var token = await TokenAsync(withCertificate);
            Assert.Equal(CertificateThumbprint.ComputeSha256Base64Url(_client), await BoundThumbprintAsync(token));

            using var discovery = JsonDocument.Parse(await withCertificate.GetStringAsync(".well-known/openid-configuration"));
            Assert.Equal(alias + "/connect/token", discovery.RootElement.GetProperty("mtls_endpoint_aliases").GetProperty("token_endpoint").GetString());

            // The browser-facing endpoint asks for no certificate, so there the client is just a client_id.
            using var plain = new HttpClient { BaseAddress = new Uri(issuer + "/") };
            using var refused = await TokenAsync(plain);
            await ProtocolAssert.ErrorAsync(refused, HttpStatusCode.Unauthorized, "invalid_client");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("{ \"Enabled\": true }", "Castellan:MutualTls:EndpointBaseUrl is required with Castellan:MutualTls:Enabled")]
    [InlineData("{ \"ForwardedCertificateHeader\": \"X-Client-Cert\" }", "ForwardedCertificateHeader is set but Castellan:MutualTls:Enabled is false")]
    [InlineData("{ \"Enabled\": true, \"EndpointBaseUrl\": \"https://mtls.example\", \"ForwardedCertificateHeader\": \"X Client Cert\" }", "is not an HTTP header name")]
    [InlineData("{ \"Enabled\": true, \"EndpointBaseUrl\": \"https://mtls.example\", \"TrustedRootCertificateFiles\": [ \"missing-ca.pem\" ] }", "TrustedRootCertificateFiles:0")]
    [InlineData("{ \"Enabled\": true, \"EndpointBaseUrl\": \"https://mtls.example\", \"ChainTrustMode\": \"Sometimes\" }", "Castellan:MutualTls:ChainTrustMode: 'Sometimes'")]
    public void Settings_that_cannot_work_are_configuration_errors(string mutualTls, string expected)
    {
        var config = Config("https://login.example", mutualTls);

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(_root.Path, 0, "--config", config)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.True(OperatorErrors.Is(ex));
        Assert.Equal(2, OperatorErrors.ExitCode);
    }

    [Theory]
    [InlineData("X509Thumbprint", "ABCDEF", "an X509Thumbprint secret's Value is not a certificate thumbprint")]
    [InlineData("X509Name", "no name here", "an X509Name secret's Value is not a distinguished name")]
    public async Task Certificate_secrets_in_the_file_are_validated(string type, string value, string expected)
    {
        var path = Path.Combine(_root.Path, "secrets.json");
        await File.WriteAllTextAsync(path, $$"""
        {
          "Castellan": {
            "ApiScopes": [ { "Name": "api1" } ],
            "Clients": [ { "ClientId": "c", "ClientSecrets": [ { "Type": "{{type}}", "Value": "{{value}}" } ],
                           "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ]
          }
        }
        """);

        await using var app = CastellanHostApp.Build(TestApp.HostArgs(_root.Path, 0, "--config", path));
        var ex = await Assert.ThrowsAsync<CastellanConfigurationException>(() => app.StartAsync());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
