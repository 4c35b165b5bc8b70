using System.Net;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>RFC 6749 §3.2: POST, application/x-www-form-urlencoded, no parameter twice, bounded size.</summary>
public sealed class TokenRequestFormatTests : TokenServerTest
{
    private static string Basic => TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret);

    private async Task<HttpResponseMessage> PostAsync(string body, string? contentType = "application/x-www-form-urlencoded", string? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        request.Content = new StringContent(body, Encoding.UTF8);
        request.Content.Headers.ContentType = null;
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization ?? Basic);
        return await Http.SendAsync(request);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Methods_other_than_post_return_invalid_request(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "connect/token?grant_type=client_credentials");
        request.Headers.TryAddWithoutValidation("Authorization", Basic);
        using var response = await Http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/x-www-form-urlencoded; charset=iso-8859-1")]
    [InlineData("not a media type")]
    [InlineData(null)]
    public async Task Wrong_content_type_returns_invalid_request(string? contentType)
    {
        using var response = await PostAsync("grant_type=client_credentials", contentType);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Form_with_utf8_charset_is_accepted()
    {
        using var response = await PostAsync("grant_type=client_credentials&scope=api1", "application/x-www-form-urlencoded; charset=UTF-8");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("grant_type=client_credentials&grant_type=client_credentials")]
    [InlineData("grant_type=client_credentials&scope=api1&scope=api2")]
    [InlineData("grant_type=client_credentials&client_id=client&client_id=client")]
    public async Task Duplicated_parameters_return_invalid_request(string body)
    {
        using var response = await PostAsync(body);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("scope=api1")]
    [InlineData("grant_type=&scope=api1")]
    [InlineData("")]
    public async Task Missing_or_empty_grant_type_returns_invalid_request(string body)
    {
        using var response = await PostAsync(body);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("urn:ietf:params:oauth:grant-type:device_code")]
    [InlineData("implicit")]
    [InlineData("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    [InlineData("CLIENT_CREDENTIALS")]
    public async Task Unknown_grant_type_returns_unsupported_grant_type(string grantType)
    {
        using var response = await PostAsync("grant_type=" + grantType);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_grant_type");
    }

    [Theory]
    [InlineData("client_credentials%00")]
    [InlineData("client_credentials%0D%0A")]
    public async Task Grant_type_with_control_characters_is_malformed(string grantType)
    {
        // RFC 6749 Appendix A.10: grant-name is VSCHAR-based; a control character makes the parameter malformed.
        using var response = await PostAsync("grant_type=" + grantType);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Overlong_grant_type_returns_invalid_request()
    {
        using var response = await PostAsync("grant_type=" + new string('g', 500));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Body_over_the_limit_returns_invalid_request()
    {
        using var response = await PostAsync("grant_type=client_credentials&pad=" + new string('a', 70 * 1024));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_returns_invalid_request()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        var payload = Encoding.ASCII.GetBytes("grant_type=client_credentials&pad=" + new string('a', 200 * 1024));
        request.Content = new StreamContent(new NoLengthStream(payload));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("Authorization", Basic);
        using var response = await Http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Too_many_parameters_return_invalid_request()
    {
        var body = "grant_type=client_credentials&" + string.Join('&', Enumerable.Range(0, 40).Select(i => $"p{i}=x"));
        using var response = await PostAsync(body);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("grant_type=client_credentials&scope=%ZZ")]
    [InlineData("grant_type=client_credentials&scope=api1%00")]
    [InlineData("grant_type=client_credentials&scope=%E2%28%A1")]
    [InlineData("grant_type=client_credentials&scope=' OR 1=1 --")]
    [InlineData("grant_type=client_credentials&scope=<script>alert(1)</script>")]
    [InlineData("grant_type=client_credentials&%00=%00")]
    [InlineData("&&&===&&")]
    public async Task Hostile_values_get_a_4xx_never_a_500(string body)
    {
        using var response = await PostAsync(body);
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Unknown_parameters_are_ignored()
    {
        // RFC 6749 §3.2: the server MUST ignore unrecognized request parameters.
        using var response = await PostAsync("grant_type=client_credentials&scope=api1&foo=bar&redirect_uri=https://evil.example");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A stream with no known length, so HttpClient sends it chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
