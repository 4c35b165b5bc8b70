using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Castellan.Clients.Authentication;
using Castellan.Stores;

namespace Castellan.Tests.Clients;

/// <summary>
/// What the mutual TLS secrets hold and how a certificate is compared with them (RFC 8705 §2): subject names as names,
/// thumbprints as bytes; and that configuration validation refuses values that could never match.
/// </summary>
public sealed class ClientCertificateTests
{
    private static X500DistinguishedName Name(string value) => ClientCertificates.ParseName(value)!;

    [Theory]
    [InlineData("CN=client.example, O=Example")]
    [InlineData("CN=client.example,O=Example")]
    [InlineData("cn=Client.Example, o=EXAMPLE")]
    [InlineData("CN=client.example; O=Example")]
    [InlineData("CN=\"client.example\", O=Example")]
    public void Names_that_differ_only_in_how_they_are_written_are_equal(string configured)
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=client.example, O=Example", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));

        Assert.True(ClientCertificates.NamesEqual(Name(configured), certificate.SubjectName));
    }

    [Fact]
    public void Inner_spaces_are_insignificant_but_characters_are_not()
    {
        Assert.True(ClientCertificates.NamesEqual(Name("CN=billing  service, O=Example"), Name("CN=billing service, O=Example")));
        Assert.False(ClientCertificates.NamesEqual(Name("CN=billing service, O=Example"), Name("CN=billingservice, O=Example")));
    }

    [Theory]
    [InlineData("CN=client.example, O=Example", "CN=client.example")]
    [InlineData("CN=client.example", "CN=client.example, O=Example")]
    [InlineData("CN=client.example, O=Example", "O=Example, CN=client.example")]
    [InlineData("CN=client.example, O=Example", "CN=client.example, OU=Example")]
    [InlineData("CN=client.example, O=Example", "CN=client.example.evil, O=Example")]
    public void Names_with_other_attributes_values_or_order_differ(string expected, string presented)
        => Assert.False(ClientCertificates.NamesEqual(Name(expected), Name(presented)));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not a name")]
    [InlineData("CN=")]
    [InlineData("=value")]
    [InlineData("CN=client.example, O=")]
    public void Values_that_are_no_name_do_not_parse(string value)
        => Assert.Null(ClientCertificates.ParseName(value));

    [Theory]
    [InlineData("A9993E364706816ABA3E25717850C26C9CD0D89D", 20)]
    [InlineData("a9993e364706816aba3e25717850c26c9cd0d89d", 20)]
    [InlineData("A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D", 20)]
    [InlineData("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 32)]
    public void Thumbprints_are_SHA1_or_SHA256_hex_in_either_case(string value, int bytes)
        => Assert.Equal(bytes, ClientCertificates.ParseThumbprint(value)?.Length);

    [Theory]
    [InlineData("")]
    [InlineData("A9993E364706816ABA3E25717850C26C9CD0D89")]
    [InlineData("A9993E364706816ABA3E25717850C26C9CD0D89DA")]
    [InlineData("G9993E364706816ABA3E25717850C26C9CD0D89D")]
    [InlineData("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")]
    public void Anything_else_is_no_thumbprint(string value)
        => Assert.Null(ClientCertificates.ParseThumbprint(value));

    [Fact]
    public void A_certificate_matches_its_SHA1_and_SHA256_thumbprint_and_no_other()
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=self", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        using var other = new CertificateRequest("CN=self", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(2));

        Assert.True(ClientCertificates.Matches(certificate, ClientCertificates.ParseThumbprint(certificate.Thumbprint)!));
        Assert.True(ClientCertificates.Matches(certificate, SHA256.HashData(certificate.RawData)));
        Assert.False(ClientCertificates.Matches(other, ClientCertificates.ParseThumbprint(certificate.Thumbprint)!));
        Assert.False(ClientCertificates.Matches(other, SHA256.HashData(certificate.RawData)));
    }

    private static InMemoryConfiguration With(params Client[] clients)
    {
        var configuration = new InMemoryConfiguration();
        configuration.ApiScopes.Add(new ApiScope("api1"));
        foreach (var client in clients)
        {
            configuration.Clients.Add(client);
        }

        return configuration;
    }

    private static Client Client(string id, params Secret[] secrets)
    {
        var client = new Client { ClientId = id, AllowedGrantTypes = { GrantTypes.ClientCredentials }, AllowedScopes = { "api1" } };
        foreach (var secret in secrets)
        {
            client.ClientSecrets.Add(secret);
        }

        return client;
    }

    [Fact]
    public void Configuration_validation_refuses_an_unparsable_name_and_a_thumbprint_of_the_wrong_length()
    {
        var errors = ConfigurationValidator.Validate(With(
            Client("bad-name", new Secret { Type = SecretTypes.X509Name, Value = "not a name" }),
            Client("bad-thumbprint", new Secret { Type = SecretTypes.X509Thumbprint, Value = "ABCDEF" }),
            Client("good", new Secret { Type = SecretTypes.X509Name, Value = "CN=client.example, O=Example" },
                new Secret { Type = SecretTypes.X509Thumbprint, Value = "A9993E364706816ABA3E25717850C26C9CD0D89D" })), ["RS256"]);

        Assert.Contains(errors, e => e.StartsWith("Client 'bad-name': an X509Name secret's Value is not a distinguished name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Client 'bad-thumbprint': an X509Thumbprint secret's Value is not a certificate thumbprint: 40 (SHA-1) or 64 (SHA-256) hex", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("'good'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_certificate_methods_need_their_secrets()
    {
        var noName = Client("no-name", Secret.FromPlainText("s"));
        noName.AllowedAuthenticationMethods.Add("tls_client_auth");
        var noThumbprint = Client("no-thumbprint", new Secret { Type = SecretTypes.X509Name, Value = "CN=x" });
        noThumbprint.AllowedAuthenticationMethods.Add("self_signed_tls_client_auth");

        var errors = ConfigurationValidator.Validate(With(noName, noThumbprint), ["RS256"]);

        Assert.Contains(errors, e => e.Contains("Client 'no-name': authentication method 'tls_client_auth' needs the certificate's subject", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'no-thumbprint': authentication method 'self_signed_tls_client_auth' needs the certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void The_secrets_imply_their_methods_and_a_jwk_does_not_imply_a_certificate_method()
    {
        var client = Client("c", new Secret { Type = SecretTypes.X509Name, Value = "CN=x" }, new Secret { Type = SecretTypes.X509Thumbprint, Value = new string('a', 64) });
        Assert.Equal(["tls_client_auth", "self_signed_tls_client_auth"], Castellan.Clients.ClientModel.ImpliedAuthenticationMethods(client));

        var keyOnly = Client("k", new Secret { Type = SecretTypes.JsonWebKey, Value = "{}" });
        Assert.Equal(["private_key_jwt"], Castellan.Clients.ClientModel.ImpliedAuthenticationMethods(keyOnly));
    }

    [Theory]
    [InlineData(true, null, "https://mtls.example.com", "needs IssuerUri")]
    [InlineData(true, "https://login.example.com", "http://mtls.example.com", "must be an absolute https URL")]
    [InlineData(true, "https://login.example.com", "https://mtls.example.com/?a=b", "must be an absolute https URL")]
    [InlineData(true, "https://login.example.com", "https://login.example.com/", "must differ from IssuerUri")]
    public void Mutual_tls_options_that_cannot_work_stop_startup(bool enabled, string? issuer, string alias, string expected)
    {
        var options = new CastellanOptions { IssuerUri = issuer };
        options.MutualTls.Enabled = enabled;
        options.MutualTls.EndpointBaseUrl = alias;

        var result = new CastellanOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Custom_root_trust_without_roots_stops_startup()
    {
        var options = new CastellanOptions();
        options.MutualTls.Enabled = true;
        options.MutualTls.ChainTrustMode = X509ChainTrustMode.CustomRootTrust;

        var result = new CastellanOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.Contains("TrustedRootCertificates is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void Mutual_tls_is_off_by_default_and_valid_so()
    {
        var options = new CastellanOptions();
        Assert.False(options.MutualTls.Enabled);
        Assert.Null(options.MutualTls.EndpointBaseUrl);
        Assert.Equal(X509ChainTrustMode.System, options.MutualTls.ChainTrustMode);
        Assert.Equal(X509RevocationMode.NoCheck, options.MutualTls.RevocationMode);
        Assert.False(new CastellanOptionsValidator().Validate(null, options).Failed);
    }
}
