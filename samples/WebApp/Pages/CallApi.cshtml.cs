using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using WebApp.Tokens;

namespace WebApp.Pages;

/// <summary>Calls the quickstart API's <c>GET /identity</c> with the user's access token.</summary>
[Authorize]
public sealed class CallApiModel(AccessTokenProvider tokens, IHttpClientFactory httpClients) : PageModel
{
    public Uri? Endpoint { get; private set; }

    public bool Refreshed { get; private set; }

    public int ApiStatus { get; private set; }

    public string? Body { get; private set; }

    public string? Error { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        using var http = httpClients.CreateClient(AccessTokenProvider.ApiClientName);
        Endpoint = new Uri(http.BaseAddress!, "identity");
        var token = await tokens.GetAsync(HttpContext, cancellationToken);
        Refreshed = token.Refreshed;
        if (token.AccessToken is null)
        {
            Error = $"No access token: {token.Error}.";
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, Endpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            ApiStatus = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Body = response.IsSuccessStatusCode ? Indent(body) : body;
        }
        catch (HttpRequestException ex)
        {
            Error = $"The API could not be reached: {ex.Message}";
        }
    }

    private static string Indent(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, IndentedJson);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
}
