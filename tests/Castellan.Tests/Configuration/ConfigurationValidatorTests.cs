using Microsoft.Extensions.Configuration;
using Castellan.Stores;

namespace Castellan.Tests.Configuration;

public sealed class ConfigurationValidatorTests
{
    private static InMemoryConfiguration Valid()
    {
        var configuration = new InMemoryConfiguration();
        configuration.ApiScopes.Add(new ApiScope("api1"));
        configuration.ApiResources.Add(new ApiResource("api1") { Scopes = { "api1" } });
        configuration.Clients.Add(new Client
        {
            ClientId = "c1",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        return configuration;
    }

    [Fact]
    public void Valid_configuration_has_no_errors()
        => Assert.Empty(ConfigurationValidator.Validate(Valid(), ["RS256"]));

    [Fact]
    public void Allowed_authentication_methods_are_checked_against_the_registered_ones_and_the_client()
    {
        var configuration = Valid();
        configuration.Clients.Add(new Client
        {
            ClientId = "c2",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedAuthenticationMethods = { "client_secret_basic", "tls_client_auth_typo", "none" },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        configuration.Clients.Add(new Client
        {
            ClientId = "c3",
            RequireClientSecret = false,
            AllowedAuthenticationMethods = { "client_secret_post" },
            AllowedGrantTypes = { GrantTypes.AuthorizationCode },
            RedirectUris = { "https://app.example.com/cb" },
            AllowedScopes = { "api1" },
        });

        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);

        Assert.Contains(errors, e => e.Contains("Client 'c2': authentication method 'tls_client_auth_typo' is unknown; supported: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth, none.", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'c2': authentication method 'none' is for public clients", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'c3': authentication method 'client_secret_post' needs a shared secret", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("'client_secret_basic'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://client.example/jwks", true)]
    [InlineData("http://127.0.0.1:5001/jwks", true)]
    [InlineData("https://client.example/jwks#keys", false)]
    [InlineData("/jwks", false)]
    [InlineData("jwks", false)]
    [InlineData("ftp://client.example/jwks", false)]
    [InlineData("", false)]
    public void Jwks_uri_must_be_an_absolute_http_or_https_url_without_fragment(string jwksUri, bool valid)
    {
        var configuration = Valid();
        configuration.Clients[0].JwksUri = jwksUri;

        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);

        Assert.Equal(valid ? [] : [$"Client 'c1': JwksUri '{jwksUri}' must be an absolute https URL without a fragment."], errors);
    }

    [Fact]
    public void A_jwk_secret_must_be_a_public_key_and_private_key_jwt_needs_one()
    {
        using var ecdsa = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var withPrivate = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(ecdsa));
        var publicOnly = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(
            new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create(ecdsa.ExportParameters(false))));
        var configuration = Valid();
        configuration.Clients.Add(new Client
        {
            ClientId = "leaky",
            ClientSecrets = { new Secret { Type = SecretTypes.JsonWebKey, Value = System.Text.Json.JsonSerializer.Serialize(withPrivate) } },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var rsaPublic = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromRSASecurityKey(
            new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa.ExportParameters(false)));

        // One private member alone (here a prime) is a leaked key too, though JsonWebKey.HasPrivateKey says no.
        rsaPublic.P = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(rsa.ExportParameters(true).P!);
        configuration.Clients.Add(new Client
        {
            ClientId = "leaky-rsa",
            ClientSecrets = { new Secret { Type = SecretTypes.JsonWebKey, Value = System.Text.Json.JsonSerializer.Serialize(rsaPublic) } },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        configuration.Clients.Add(new Client
        {
            ClientId = "keyless",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedAuthenticationMethods = { "private_key_jwt" },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        configuration.Clients.Add(new Client
        {
            ClientId = "good",
            ClientSecrets = { new Secret { Type = SecretTypes.JsonWebKey, Value = System.Text.Json.JsonSerializer.Serialize(publicOnly) } },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });
        configuration.Clients.Add(new Client
        {
            ClientId = "odd",
            ClientSecrets = { new Secret { Type = "X509Whatever", Value = "x" } },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1" },
        });

        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);

        Assert.Contains(errors, e => e.StartsWith("Client 'leaky': a JWK secret's Value is not a public RSA or EC key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Client 'leaky-rsa': a JWK secret's Value is not a public RSA or EC key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Client 'keyless': authentication method 'private_key_jwt' needs the client's public key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Client 'odd': secret type 'X509Whatever' is not supported", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("'good'", StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_client_id_is_reported()
    {
        var configuration = Valid();
        configuration.Clients.Add(new Client
        {
            ClientId = "c1",
            ClientSecrets = { Secret.FromPlainText("s") },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
        });
        Assert.Contains(ConfigurationValidator.Validate(configuration, ["RS256"]), e => e.Contains("'c1' is used by more than one client", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_scope_unknown_grant_and_missing_secret_are_all_reported()
    {
        var configuration = Valid();
        configuration.Clients.Add(new Client { ClientId = "c2", AllowedGrantTypes = { "urn:example:unknown" }, AllowedScopes = { "nope" } });
        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);
        Assert.Contains(errors, e => e.Contains("grant type 'urn:example:unknown' is unknown", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("allowed scope 'nope'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("requires a client secret but has none", StringComparison.Ordinal));
    }

    [Fact]
    public void Resource_with_unknown_scope_or_algorithm_is_reported()
    {
        var configuration = Valid();
        configuration.ApiResources.Add(new ApiResource("api2") { Scopes = { "missing" }, AllowedAccessTokenSigningAlgorithms = { "ES256" } });
        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);
        Assert.Contains(errors, e => e.Contains("names scope 'missing'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'ES256'", StringComparison.Ordinal));
    }

    [Fact]
    public void An_HmacSecret_must_be_long_enough_and_plain_and_client_secret_jwt_needs_one()
    {
        var configuration = Valid();
        Client Hmac(string id, params Secret[] secrets)
        {
            var client = new Client
            {
                ClientId = id,
                AllowedAuthenticationMethods = { "client_secret_jwt" },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
            };
            foreach (var secret in secrets)
            {
                client.ClientSecrets.Add(secret);
            }

            configuration.Clients.Add(client);
            return client;
        }

        Hmac("good", Secret.FromHmacSecret(new string('k', 32)));
        Hmac("short", Secret.FromHmacSecret(new string('k', 31)));
        Hmac("hashed", new Secret { Type = SecretTypes.HmacSecret, Value = "sha256:" + Secret.Hash(new string('k', 40)) });
        Hmac("hash-only", Secret.FromPlainText(new string('k', 40)));
        configuration.ApiResources[0].ApiSecrets.Add(Secret.FromHmacSecret(new string('k', 40)));

        var errors = ConfigurationValidator.Validate(configuration, ["RS256"]);

        Assert.DoesNotContain(errors, e => e.Contains("'good'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'short': an HmacSecret is shorter than 32 bytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'hashed': an HmacSecret cannot be given as a hash", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Client 'hash-only': authentication method 'client_secret_jwt' needs", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ApiResource 'api1': secret type 'HmacSecret' is for clients", StringComparison.Ordinal));

        // The secret itself is never part of a message.
        Assert.DoesNotContain(errors, e => e.Contains("kkkk", StringComparison.Ordinal));
    }

    [Fact]
    public void A_client_with_an_HmacSecret_may_use_client_secret_jwt_and_not_the_hashed_methods()
    {
        var client = new Client { ClientId = "c", ClientSecrets = { Secret.FromHmacSecret(new string('k', 32)) } };
        Assert.Equal(["client_secret_jwt"], Castellan.Clients.ClientModel.ImpliedAuthenticationMethods(client));
    }

    [Fact]
    public void Client_assertion_algorithms_are_an_allow_list()
    {
        var options = new CastellanOptions();
        options.ClientAssertions.AllowedAlgorithms.Add("none");
        options.ClientAssertions.AllowedAlgorithms.Add("HS1");
        var result = new CastellanOptionsValidator().Validate(null, options);
        Assert.Contains(result.Failures!, f => f.Contains("ClientAssertions.AllowedAlgorithms: 'none' is not supported", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("'HS1' is not supported", StringComparison.Ordinal));
        Assert.True(Castellan.Clients.Authentication.ClientAssertionMethod.IsHmac("HS256"));
        Assert.False(Castellan.Clients.Authentication.ClientAssertionMethod.IsAsymmetric("none"));
    }

    [Fact]
    public void Plain_text_in_a_secret_value_is_reported()
    {
        var configuration = Valid();
        configuration.Clients[0].ClientSecrets.Add(new Secret("not-a-hash"));
        Assert.Contains(ConfigurationValidator.Validate(configuration, ["RS256"]), e => e.Contains("not a base64 SHA-256 hash", StringComparison.Ordinal));
    }

    [Fact]
    public void Configured_secret_forms_are_normalized()
    {
        Assert.Equal(Secret.Hash("secret"), Secret.NormalizeConfiguredValue("secret"));
        Assert.Equal(Secret.Hash("secret"), Secret.NormalizeConfiguredValue("sha256:" + Secret.Hash("secret")));
        Assert.Equal("K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", Secret.Hash("secret"));
    }

    [Fact]
    public void Options_validator_rejects_unsupported_algorithm_and_bad_timings()
    {
        var options = new CastellanOptions();
        options.KeyManagement.SigningAlgorithms = ["HS256", "none"];
        options.KeyManagement.PropagationTime = TimeSpan.FromDays(100);
        var result = new CastellanOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("'HS256' is not supported", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("'none' is not supported", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("PropagationTime must be shorter", StringComparison.Ordinal));
    }

    [Fact]
    public void Client_jwks_options_that_would_not_bound_the_fetch_are_reported()
    {
        Assert.False(new CastellanOptionsValidator().Validate(null, new CastellanOptions()).Failed);
        var options = new CastellanOptions();
        options.ClientJwks.Timeout = TimeSpan.Zero;
        options.ClientJwks.MaxResponseSize = int.MaxValue;

        var result = new CastellanOptionsValidator().Validate(null, options);

        Assert.Equal(
            [
                "ClientJwks: CacheDuration must be positive, MinimumRefreshInterval not negative, and Timeout between zero and one minute.",
                "ClientJwks.MaxResponseSize must be between 1024 and 1048576 bytes.",
            ],
            result.Failures);
    }

    [Theory]
    [InlineData(new string[0], new[] { "RS256" })]
    [InlineData(new[] { "ES256" }, new[] { "ES256" })]
    [InlineData(new[] { "ES256", "RS256", "ES256" }, new[] { "ES256", "RS256" })]
    public void Bound_signing_algorithms_replace_the_default(string[] configured, string[] effective)
    {
        // The configuration binder appends to lists; a pre-filled default would turn ["ES256"] into RS256 + ES256.
        var values = configured.Select((a, i) => new KeyValuePair<string, string?>($"KeyManagement:SigningAlgorithms:{i}", a));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new CastellanOptions();
        configuration.Bind(options);
        Assert.Equal(effective, options.KeyManagement.EffectiveSigningAlgorithms);
    }
}
