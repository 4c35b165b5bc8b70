using System.Net;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// An authorization request as raw parameters, for tests that break it in one place: a valid request of the web
/// client (code, S256, openid api1, state), then replaced, removed or repeated parameters.
/// </summary>
internal sealed class AuthorizeQuery
{
    public const string State = "st-1234";
    public const string Verifier = "verifier-0123456789-0123456789-0123456789-abcdef";

    private readonly List<KeyValuePair<string, string>> _parameters;

    private AuthorizeQuery(List<KeyValuePair<string, string>> parameters) => _parameters = parameters;

    public static AuthorizeQuery Valid(string clientId = InteractiveServer.WebClientId, string redirectUri = InteractiveServer.RedirectUri) => new(
    [
        new("client_id", clientId),
        new("redirect_uri", redirectUri),
        new("response_type", "code"),
        new("scope", "openid api1"),
        new("state", State),
        new("code_challenge", Castellan.Pkce.PkceValidator.S256Challenge(Verifier)),
        new("code_challenge_method", "S256"),
    ]);

    public IReadOnlyList<KeyValuePair<string, string>> Parameters => _parameters;

    /// <summary>Replaces every value of <paramref name="name"/> (or adds it).</summary>
    public AuthorizeQuery With(string name, string value)
    {
        var index = _parameters.FindIndex(p => p.Key == name);
        _parameters.RemoveAll(p => p.Key == name);
        _parameters.Insert(index < 0 ? _parameters.Count : index, new(name, value));
        return this;
    }

    public AuthorizeQuery Without(string name)
    {
        _parameters.RemoveAll(p => p.Key == name);
        return this;
    }

    /// <summary>Adds another <paramref name="name"/>, keeping the ones there.</summary>
    public AuthorizeQuery Plus(string name, string value)
    {
        _parameters.Add(new(name, value));
        return this;
    }

    public string Url => "connect/authorize?" + string.Join('&', _parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
}

/// <summary>Where an authorization request was answered: the client's redirect URI or the error page.</summary>
internal static class AuthorizeAssert
{
    /// <summary>
    /// A 302 to the registered redirect URI with <paramref name="error"/>, the request's state and <c>iss</c>
    /// (RFC 6749 §4.1.2.1, RFC 9207 §2).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> RedirectedErrorAsync(HttpResponseMessage response, TestApp server, string error,
        string? state = AuthorizeQuery.State, string redirectUri = InteractiveServer.RedirectUri)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Found, $"expected 302, got {(int)response.StatusCode}: {body}");
        var location = RawLocation(response);
        Assert.StartsWith(redirectUri + "?", location, StringComparison.Ordinal);
        var parameters = QueryHelpers.ParseQuery(location[location.IndexOf('?', StringComparison.Ordinal)..]).ToDictionary(p => p.Key, p => p.Value.ToString());
        Assert.Equal(error, parameters["error"]);
        Assert.Equal(server.BaseAddress, parameters["iss"]);
        if (state is null)
        {
            Assert.False(parameters.ContainsKey("state"), "state must not be echoed");
        }
        else
        {
            Assert.Equal(state, parameters["state"]);
        }

        Assert.False(parameters.ContainsKey("code"));
        return parameters;
    }

    /// <summary>
    /// A 302 to the server's error page, never to the client (RFC 6749 §4.1.2.1: the client or its redirect URI
    /// cannot be trusted), and the page names <paramref name="error"/>.
    /// </summary>
    public static async Task ErrorPageAsync(HttpClient browser, HttpResponseMessage response, string error)
    {
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = RawLocation(response);
        Assert.StartsWith("/error?errorId=", location, StringComparison.Ordinal);
        Assert.DoesNotContain("app.example", location, StringComparison.Ordinal);
        using var page = await browser.GetAsync(location);
        using var json = System.Text.Json.JsonDocument.Parse(await page.Content.ReadAsStringAsync());
        Assert.Equal("error", json.RootElement.GetProperty("page").GetString());
        Assert.Equal(error, json.RootElement.GetProperty("error").GetString());
    }

    /// <summary>A 302 to the login page: the request passed validation and waits for the user.</summary>
    public static void SentToLogin(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.StartsWith("/account/login?ReturnUrl=", RawLocation(response), StringComparison.Ordinal);
    }

    /// <summary>The Location header as sent, not as <see cref="Uri"/> re-renders it.</summary>
    public static string RawLocation(HttpResponseMessage response)
    {
        Assert.True(response.Headers.NonValidated.TryGetValues("Location", out var values), $"no Location header ({(int)response.StatusCode})");
        return values.Single();
    }
}
