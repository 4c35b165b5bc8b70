using System.Security.Cryptography;
using System.Text;

namespace Castellan.IntegrationTests.Ui;

/// <summary>Every page, and only the pages, carries the framing, CSP, referrer, sniffing and caching headers.</summary>
public sealed class SecurityHeaderTests
{
    [Theory]
    [InlineData("")]
    [InlineData("account/login")]
    [InlineData("account/login?ReturnUrl=https%3A%2F%2Fevil.example")]
    [InlineData("consent")]
    [InlineData("account/logout")]
    [InlineData("error?errorId=x")]
    public async Task Every_page_sends_the_security_headers(string path)
    {
        await using var host = await UiHost.StartAsync();

        var (response, document) = await host.GetPageAsync(path);

        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("no-store", Header(response, "Cache-Control"));
        var csp = Header(response, "Content-Security-Policy")!.Split(';', StringSplitOptions.TrimEntries).ToList();
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("form-action 'self'", csp);
        Assert.Contains("base-uri 'none'", csp);
        Assert.Contains("object-src 'none'", csp);

        // The inline style sheet is allowed by its hash: no 'unsafe-inline' anywhere.
        Assert.Contains("style-src " + Hash(document.QuerySelector("style")!.TextContent), csp);
        Assert.DoesNotContain(csp, d => d.Contains("unsafe", StringComparison.Ordinal));
        Assert.Equal("width=device-width, initial-scale=1", document.QuerySelector("meta[name=viewport]")!.GetAttribute("content"));
    }

    [Fact]
    public async Task A_refused_antiforgery_token_still_gets_the_page_headers()
    {
        await using var host = await UiHost.StartAsync();

        using var response = await host.PostAsync("account/login", [new("username", "a"), new("password", "b")]);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public async Task With_a_rate_limit_the_pages_are_limited_too_and_keep_their_headers()
    {
        await using var host = await UiHost.StartAsync("\"RateLimiting\": { \"PermitLimit\": 2 }");

        var statuses = new List<System.Net.HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last?.Dispose();
            last = await host.Http.GetAsync("account/login");
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal("DENY", Header(last!, "X-Frame-Options"));
        last!.Dispose();
    }

    [Theory]
    [InlineData(".well-known/openid-configuration")]
    [InlineData(".well-known/openid-configuration/jwks")]
    [InlineData("health")]
    public async Task Protocol_endpoints_keep_their_own_headers(string path)
    {
        await using var host = await UiHost.StartAsync();

        using var response = await host.Http.GetAsync(path);

        Assert.False(response.Headers.Contains("Content-Security-Policy"));
        Assert.False(response.Headers.Contains("X-Frame-Options"));
    }

    internal static string Hash(string content) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(content)))}'";

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values) : null;
}
