using System.Text.Json;
using Duende.IdentityModel.Client;

namespace Quickstart.Client;

/// <summary>
/// The console client of the quickstart: discovery, then a client credentials token, then a call to the API,
/// all with the Duende.IdentityModel client library.
/// </summary>
public static class ClientApp
{
    public static async Task<int> RunAsync(string authority, string apiBaseUrl, TextWriter output, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();

        var discovery = await http.GetDiscoveryDocumentAsync(authority, cancellationToken);
        if (discovery.IsError)
        {
            await output.WriteLineAsync($"Discovery failed: {discovery.Error}");
            return 1;
        }

        var token = await http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = discovery.TokenEndpoint,
            ClientId = "client",
            ClientSecret = "secret",
            Scope = "api1",
        }, cancellationToken);
        if (token.IsError)
        {
            await output.WriteLineAsync($"Token request failed: {token.Error} {token.ErrorDescription}");
            return 1;
        }

        await output.WriteLineAsync($"Access token received, expires in {token.ExpiresIn} s.");

        using var api = new HttpClient();
        api.SetBearerToken(token.AccessToken!);
        HttpResponseMessage response;
        try
        {
            response = await api.GetAsync(new Uri(new Uri(apiBaseUrl), "identity"), cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            await output.WriteLineAsync($"API call failed: {ex.Message}");
            return 1;
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            await output.WriteLineAsync($"API call failed: {(int)response.StatusCode} {response.StatusCode}");
            return 1;
        }

        using var claims = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        await output.WriteLineAsync(JsonSerializer.Serialize(claims, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}
