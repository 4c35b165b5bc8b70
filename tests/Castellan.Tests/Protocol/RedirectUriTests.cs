using Castellan.Clients;

namespace Castellan.Tests.Protocol;

/// <summary>Exact string matching of redirect URIs, with only the RFC 8252 §7.3 loopback port allowance.</summary>
public sealed class RedirectUriTests
{
    private static readonly string[] Registered =
    [
        "https://app.example.com/signin-oidc",
        "com.example.app:/oauth2redirect",
        "http://127.0.0.1/callback",
        "http://[::1]:8080/cb?x=1",
        "http://localhost:5002/signin-oidc",
    ];

    [Theory]
    [InlineData("https://app.example.com/signin-oidc")]
    [InlineData("com.example.app:/oauth2redirect")]
    [InlineData("http://127.0.0.1/callback")]
    [InlineData("http://127.0.0.1:51004/callback")]
    [InlineData("http://127.0.0.1:1/callback")]
    [InlineData("http://127.0.0.1:65535/callback")]
    [InlineData("http://[::1]:8080/cb?x=1")]
    [InlineData("http://[::1]:40000/cb?x=1")]
    [InlineData("http://[::1]/cb?x=1")]
    [InlineData("http://localhost:5002/signin-oidc")]
    public void Registered_uris_and_loopback_ports_match(string requested)
        => Assert.True(RedirectUris.Matches(requested, Registered));

    [Theory]
    [InlineData("https://app.example.com/signin-oidc/")]
    [InlineData("https://APP.example.com/signin-oidc")]
    [InlineData("HTTPS://app.example.com/signin-oidc")]
    [InlineData("https://app.example.com/Signin-oidc")]
    [InlineData("https://app.example.com/signin-oidc?next=/")]
    [InlineData("https://app.example.com/signin-oidc#frag")]
    [InlineData("https://app.example.com:443/signin-oidc")]
    [InlineData("https://user@app.example.com/signin-oidc")]
    [InlineData("https://app.example.com.evil.example/signin-oidc")]
    [InlineData("https://app.example.com/signin-oidc/../evil")]
    [InlineData("https://app.example.com/signin%2Doidc")]
    [InlineData("http://app.example.com/signin-oidc")]
    [InlineData("https://app.example.com/signin-oidc ")]
    [InlineData("http://127.0.0.1/callback/")]
    [InlineData("http://127.0.0.1:0/callback")]
    [InlineData("http://127.0.0.1:65536/callback")]
    [InlineData("http://127.0.0.1:-1/callback")]
    [InlineData("http://127.0.0.1:/callback")]
    [InlineData("http://127.0.0.1:80a/callback")]
    [InlineData("http://127.0.0.1:0000080/callback")]
    [InlineData("http://127.0.0.1.evil.example/callback")]
    [InlineData("http://127.0.0.1@evil.example/callback")]
    [InlineData("http://127.0.0.1:8080@evil.example/callback")]
    [InlineData("https://127.0.0.1:8080/callback")]
    [InlineData("http://127.0.0.2:8080/callback")]
    [InlineData("http://[::1]:40000/cb?x=2")]
    [InlineData("http://[::1]:40000/cb")]
    [InlineData("http://localhost:5003/signin-oidc")]
    [InlineData("http://localhost/signin-oidc")]
    [InlineData("")]
    public void Anything_else_does_not_match(string requested)
        => Assert.False(RedirectUris.Matches(requested, Registered));
}
