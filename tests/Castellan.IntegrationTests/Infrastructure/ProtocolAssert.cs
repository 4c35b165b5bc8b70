using System.Net;
using System.Text.Json;

namespace Castellan.IntegrationTests.Infrastructure;

/// <summary>Assertions for RFC 6749 §5.2 error responses.</summary>
public static class ProtocolAssert
{
    public static async Task ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        if (json.RootElement.TryGetProperty("error_description", out var description))
        {
            // RFC 6749 §5.2: error_description uses %x20-21 / %x23-5B / %x5D-7E only.
            Assert.All(description.GetString()!, c => Assert.True(c is >= ' ' and <= '~' && c is not '"' and not '\\', $"bad character in error_description: {description}"));
        }
    }
}
