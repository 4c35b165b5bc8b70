using System.Net;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Hardening;

/// <summary>
/// OAuth parameter names are exact (RFC 6749 §3.1, §3.2: names are case-sensitive strings). A name in another
/// case is an unknown parameter, which the server ignores; it never stands in for the real one.
/// </summary>
public sealed class ParameterNameTests : TokenServerTest
{
    private async Task<HttpResponseMessage> PostAsync(string path, string body, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await Http.SendAsync(request);
    }

    private static string Basic => TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret);

    [Theory]
    [InlineData("GRANT_TYPE=client_credentials")]
    [InlineData("Grant_Type=client_credentials")]
    [InlineData("grant_Type=client_credentials&scope=api1")]
    public async Task Grant_type_in_another_case_is_not_grant_type(string body)
    {
        using var response = await PostAsync("connect/token", body, Basic);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains("grant_type parameter is missing", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("grant_type=client_credentials&client_id=client&Client_Secret=secret")]
    [InlineData("grant_type=client_credentials&client_id=client&CLIENT_SECRET=secret")]
    public async Task Client_secret_in_another_case_does_not_authenticate(string body)
    {
        using var response = await PostAsync("connect/token", body, authorization: null);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Client_id_in_another_case_is_no_client_authentication()
    {
        using var response = await PostAsync("connect/token", "grant_type=client_credentials&CLIENT_ID=client&client_secret=secret", authorization: null);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task A_name_in_another_case_beside_the_real_one_is_ignored_not_a_duplicate()
    {
        // SCOPE is an unknown parameter (ignored, RFC 6749 §3.2), so the request gets the scope it named.
        using var response = await PostAsync("connect/token", "grant_type=client_credentials&scope=api1&SCOPE=api2&GRANT_TYPE=password", Basic);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal("api1", json.RootElement.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Introspection_token_parameter_name_is_exact()
    {
        var token = await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
        using var response = await PostAsync("connect/introspect", "TOKEN=" + token, TestTokens.Basic("api1", TokenServer.Api1Secret));
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Revocation_token_parameter_name_is_exact()
    {
        using var response = await PostAsync("connect/revocation", "Token=abc", Basic);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }
}
