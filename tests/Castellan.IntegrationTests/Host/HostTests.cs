using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Quickstart.Api;

namespace Castellan.IntegrationTests.Host;

/// <summary>The ready-to-run host, started as <c>Program</c> starts it, on an empty folder.</summary>
public sealed class HostTests
{
    [Fact]
    public async Task Fresh_host_serves_discovery_jwks_and_a_verifiable_at_jwt_for_the_demo_client()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path)));
        using var http = host.CreateClient();

        using var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        Assert.Equal(host.BaseAddress, discovery.RootElement.GetProperty("issuer").GetString());
        Assert.Equal(host.BaseAddress + "/connect/token", discovery.RootElement.GetProperty("token_endpoint").GetString());

        var token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
        var jwt = new JsonWebToken(token);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("RS256", jwt.Alg);
        var result = await TestTokens.ValidateAsync(http, token, host.BaseAddress, "api1");
        Assert.True(result.IsValid, result.Exception?.Message);

        // The key was created on first start in the embedded SQLite database under the content root, encrypted; no
        // key files.
        var database = Path.Combine(root.Path, ".castellan", "castellan.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT Id, DataProtected, Data FROM SigningKeys";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(jwt.Kid, reader.GetString(0));
            Assert.True(reader.GetBoolean(1));
            Assert.DoesNotContain("MII", reader.GetString(2), StringComparison.Ordinal);
            Assert.False(await reader.ReadAsync());
        }

        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan", "keys")));
    }

    [Fact]
    public async Task The_file_key_store_serves_when_storage_is_in_memory()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--Castellan:Storage:Provider=InMemory")));
        using var http = host.CreateClient();
        var jwt = new JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret"));

        // The key was created on first start in the keys folder under the content root, encrypted.
        var keyFile = Assert.Single(Directory.GetFiles(Path.Combine(root.Path, ".castellan", "keys"), "castellan-key-*.json"));
        Assert.Contains(jwt.Kid, keyFile, StringComparison.Ordinal);
        Assert.Contains("\"DataProtected\": true", await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(root.Path, ".castellan", "castellan.db")));
    }

    [Fact]
    public async Task After_a_restart_the_jwks_keeps_the_key_and_an_earlier_token_still_validates_at_the_api()
    {
        using var root = new TempDirectory();
        var port = TestApp.FreePort();
        string token;
        string jwksBefore;
        await using (var first = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port))))
        {
            using var http = first.CreateClient();
            token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
            jwksBefore = await http.GetStringAsync(".well-known/openid-configuration/jwks");
        }

        await using var second = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, port)));
        using (var http = second.CreateClient())
        {
            Assert.Equal(jwksBefore, await http.GetStringAsync(".well-known/openid-configuration/jwks"));
        }

        using var apiRoot = new TempDirectory();
        await using var api = await TestApp.StartAsync(ApiApp.Build(TestApp.Args(apiRoot.Path, 0, $"--Authority={second.BaseAddress}")));
        using var apiHttp = api.CreateClient();
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await apiHttp.GetAsync("identity");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Config_file_clients_authenticate_with_plain_and_prehashed_secrets()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, $$"""
        {
          "Castellan": {
            "ApiScopes": [ { "Name": "orders.read" }, { "Name": "orders.write" } ],
            "ApiResources": [ { "Name": "orders", "Scopes": [ "orders.read", "orders.write" ] } ],
            "Clients": [
              { "ClientId": "plain", "ClientSecrets": [ { "Value": "plain-secret" } ],
                "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "orders.read" ], "AccessTokenLifetime": 600 },
              { "ClientId": "hashed", "ClientSecrets": [ { "Value": "sha256:{{Secret.Hash("hashed-secret")}}" } ],
                "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "orders.read", "orders.write" ],
                "Claims": [ { "Type": "tenant", "Value": "acme" } ] },
              { "ClientId": "hmac", "ClientSecrets": [ { "Type": "HmacSecret", "Value": "hmac-secret-0123456789abcdef0123456789" } ],
                "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "orders.read" ] }
            ]
          }
        }
        """);

        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));
        using var http = host.CreateClient();

        var plain = new JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "plain", "plain-secret"));
        Assert.Equal("orders", plain.GetClaim("aud").Value);
        Assert.Equal(600, plain.GetPayloadValue<long>("exp") - plain.GetPayloadValue<long>("iat"));

        var hashed = new JsonWebToken(await TestTokens.GetAccessTokenAsync(http, "hashed", "hashed-secret"));
        Assert.Equal("orders.read orders.write", hashed.GetClaim("scope").Value);
        Assert.Equal("acme", hashed.GetClaim("client_tenant").Value);

        // client_secret_jwt: the HmacSecret is kept as written, not hashed, and keys the assertion's HMAC.
        var key = new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes("hmac-secret-0123456789abcdef0123456789"));
        var assertion = await TestTokens.RequestWithAssertionAsync(http, "hmac", TestTokens.ClientAssertion("hmac", host.BaseAddress, key, "HS256"), "orders.read");
        Assert.False(assertion.IsError, assertion.Raw);

        using (var asSecret = await TestTokens.RequestAsync(http, "hmac", "hmac-secret-0123456789abcdef0123456789"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, asSecret.StatusCode);
        }

        // The demo client is not loaded once a configuration is given.
        using var demo = await TestTokens.RequestAsync(http, "demo-client", "demo-secret");
        Assert.Equal(HttpStatusCode.Unauthorized, demo.StatusCode);
        // The pre-hashed value is not itself a password.
        using var raw = await TestTokens.RequestAsync(http, "hashed", Secret.Hash("hashed-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
    }

    [Fact]
    public async Task Invalid_config_file_stops_startup_with_every_problem_named()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "bad.json");
        await File.WriteAllTextAsync(config, """
        {
          "Castellan": {
            "ApiScopes": [ { "Name": "api1" } ],
            "Clients": [
              { "ClientId": "a", "ClientSecrets": [ { "Value": "x" } ], "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] },
              { "ClientId": "a", "ClientSecrets": [ { "Value": "x" } ], "AllowedGrantTypes": [ "implicit" ], "AllowedScopes": [ "nope" ] }
            ]
          }
        }
        """);

        var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config));
        var ex = await Assert.ThrowsAsync<CastellanConfigurationException>(() => app.StartAsync());
        await app.DisposeAsync();
        Assert.Contains(ex.Errors, e => e.Contains("ClientId 'a' is used by more than one client", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("grant type 'implicit' is unknown", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("allowed scope 'nope'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invalid_options_stop_startup()
    {
        using var root = new TempDirectory();
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
        {
            await using var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--Castellan:KeyManagement:SigningAlgorithms:0=HS256"));
            await app.StartAsync();
        });
        Assert.Contains(ex.Failures, f => f.Contains("'HS256' is not supported", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Es256_configured_host_signs_with_es256()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            "--Castellan:KeyManagement:SigningAlgorithms:0=ES256")));
        using var http = host.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
        Assert.Equal("ES256", new JsonWebToken(token).Alg);
        Assert.True((await TestTokens.ValidateAsync(http, token, host.BaseAddress, "api1")).IsValid);
    }

    [Fact]
    public async Task Static_pem_signing_key_is_used_and_published()
    {
        using var root = new TempDirectory();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var pem = Path.Combine(root.Path, "signing.pem");
        await File.WriteAllTextAsync(pem, rsa.ExportPkcs8PrivateKeyPem());
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, $"--Castellan:SigningKey:Path={pem}")));
        using var http = host.CreateClient();

        var token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
        Assert.True((await TestTokens.ValidateAsync(http, token, host.BaseAddress, "api1")).IsValid);
        var jwks = await TestTokens.GetJwksAsync(http);
        var key = Assert.Single(jwks.Keys);
        Assert.Equal(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(rsa.ExportParameters(false).Modulus), key.N);
        Assert.False(Directory.Exists(Path.Combine(root.Path, ".castellan", "keys")) &&
                     Directory.GetFiles(Path.Combine(root.Path, ".castellan", "keys"), "castellan-key-*").Length > 0);
    }

    [Fact]
    public async Task Static_pfx_signing_certificate_is_used_and_published()
    {
        using var root = new TempDirectory();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=castellan-signing", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllBytesAsync(Path.Combine(root.Path, "signing.pfx"),
            certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pfx-password"));

        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            "--Castellan:SigningKey:Path=signing.pfx", "--Castellan:SigningKey:Password=pfx-password")));
        using var http = host.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
        Assert.True((await TestTokens.ValidateAsync(http, token, host.BaseAddress, "api1")).IsValid);
        var key = Assert.Single((await TestTokens.GetJwksAsync(http)).Keys);
        Assert.Equal(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(rsa.ExportParameters(false).Modulus), key.N);
        Assert.Equal(key.Kid, new JsonWebToken(token).Kid);
    }

    [Theory]
    [InlineData("signing.pfx", "wrong-password")]
    [InlineData("missing.pem", "")]
    [InlineData("not-a-key.pem", "")]
    public void Unusable_static_signing_key_is_a_named_configuration_error(string path, string password)
    {
        using var root = new TempDirectory();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllBytes(Path.Combine(root.Path, "signing.pfx"), certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pfx-password"));
        File.WriteAllText(Path.Combine(root.Path, "not-a-key.pem"), "hello");

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            $"--Castellan:SigningKey:Path={path}", $"--Castellan:SigningKey:Password={password}")));
        Assert.Contains("Castellan:SigningKey:Path", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_rate_limit_answers_429_on_castellan_endpoints_but_not_on_health()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            "--Castellan:RateLimiting:PermitLimit=2", "--Castellan:RateLimiting:Window=00:10:00")));
        using var http = host.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await TestTokens.RequestAsync(http, "demo-client", "guess-" + i, "api1");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await http.GetAsync(".well-known/openid-configuration")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
    }

    [Theory]
    [InlineData("--Castellan:RateLimiting:PermitLimit=0")]
    [InlineData("--Castellan:RateLimiting:PermitLimit=many")]
    [InlineData("--Castellan:RateLimiting:Window=soon")]
    public void Bad_rate_limit_settings_are_named_configuration_errors(string setting)
    {
        using var root = new TempDirectory();
        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, setting)));
        Assert.Contains("Castellan:RateLimiting", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_endpoint_reports_healthy()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path)));
        using var http = host.CreateClient();
        Assert.Equal("Healthy", await http.GetStringAsync("health"));
    }
}
