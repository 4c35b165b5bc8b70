using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.WebUtilities;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// A user agent without a browser: a cookie jar and manual redirects, stopping as soon as the server sends the
/// browser somewhere outside itself (the client's redirect URI) or renders a page.
/// </summary>
public sealed class BrowserSession : IDisposable
{
    private readonly HttpClient _http;

    public BrowserSession(TestApp server)
    {
        Server = server;
        Cookies = new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = Cookies, UseCookies = true })
        {
            BaseAddress = new Uri(server.BaseAddress + "/"),
        };
    }

    public TestApp Server { get; }

    public CookieContainer Cookies { get; }

    public HttpClient Http => _http;

    /// <summary>Follows redirects within the server; returns where it ended.</summary>
    public async Task<BrowserResult> NavigateAsync(string url, int maxRedirects = 10)
    {
        var response = await _http.GetAsync(url);
        return await FollowAsync(response, maxRedirects);
    }

    public async Task<BrowserResult> PostFormAsync(string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        using var content = new FormUrlEncodedContent(form);
        var response = await _http.PostAsync(url, content);
        return await FollowAsync(response, 10);
    }

    private async Task<BrowserResult> FollowAsync(HttpResponseMessage response, int maxRedirects)
    {
        for (var i = 0; i <= maxRedirects; i++)
        {
            if ((int)response.StatusCode is < 300 or > 399)
            {
                var body = await response.Content.ReadAsStringAsync();
                return new BrowserResult(response, body, null);
            }

            var location = response.Headers.Location!;
            var absolute = location.IsAbsoluteUri ? location : new Uri(_http.BaseAddress!, location);
            if (!absolute.GetLeftPart(UriPartial.Authority).Equals(new Uri(Server.BaseAddress).GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
            {
                return new BrowserResult(response, null, absolute);
            }

            response.Dispose();
            response = await _http.GetAsync(absolute);
        }

        throw new InvalidOperationException("Too many redirects.");
    }

    /// <summary>On the login page: signs in and follows on.</summary>
    public Task<BrowserResult> SignInAsync(BrowserResult loginPage, string username = InteractiveServer.Username, string password = InteractiveServer.Password)
    {
        var returnUrl = QueryHelpers.ParseQuery(loginPage.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        return PostFormAsync("account/login", [new("username", username), new("password", password), new("ReturnUrl", returnUrl)]);
    }

    /// <summary>On the consent page: answers and follows on.</summary>
    public Task<BrowserResult> ConsentAsync(BrowserResult consentPage, bool allow, IEnumerable<string> scopes, bool remember = false)
    {
        var returnUrl = QueryHelpers.ParseQuery(consentPage.Response.RequestMessage!.RequestUri!.Query)["ReturnUrl"].ToString();
        var form = new List<KeyValuePair<string, string>> { new("ReturnUrl", returnUrl), new("decision", allow ? "allow" : "deny"), new("remember", remember ? "true" : "false") };
        form.AddRange(scopes.Select(s => new KeyValuePair<string, string>("scopes", s)));
        return PostFormAsync("consent", form);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Where navigation ended: a page of the server (with its body) or a redirect out to <see cref="ExternalLocation"/>.</summary>
public sealed record BrowserResult(HttpResponseMessage Response, string? Body, Uri? ExternalLocation)
{
    public string? Page => Body is { Length: > 0 } && Body.StartsWith('{') ? JsonDocument.Parse(Body).RootElement.TryGetProperty("page", out var page) ? page.GetString() : null : null;

    public JsonElement Json => JsonDocument.Parse(Body!).RootElement;

    /// <summary>The parameters of the authorization response in the redirect's query or fragment.</summary>
    public IReadOnlyDictionary<string, string> ResponseParameters
    {
        get
        {
            var location = ExternalLocation ?? throw new InvalidOperationException($"No redirect to the client; ended on {Response.RequestMessage!.RequestUri} ({(int)Response.StatusCode}): {Body}");
            var text = location.Fragment.Length > 1 ? location.Fragment[1..] : location.Query;
            return QueryHelpers.ParseQuery(text).ToDictionary(p => p.Key, p => p.Value.ToString());
        }
    }
}

/// <summary>Builds authorization requests with Duende.IdentityModel, as a client would.</summary>
public sealed class AuthorizeRequestBuilder(TestApp server)
{
    public string Verifier { get; } = Duende.IdentityModel.CryptoRandom.CreateUniqueId(43);

    public string State { get; } = Duende.IdentityModel.CryptoRandom.CreateUniqueId(16);

    public string Nonce { get; } = Duende.IdentityModel.CryptoRandom.CreateUniqueId(16);

    public string Challenge => Castellan.Pkce.PkceValidator.S256Challenge(Verifier);

    public string Url(string clientId = InteractiveServer.WebClientId, string? scope = "openid profile email api1 offline_access",
        string redirectUri = InteractiveServer.RedirectUri, string? responseMode = null, string? prompt = null, int? maxAge = null,
        string? loginHint = null, string? idTokenHint = null, Parameters? extra = null, bool pkce = true)
        => new RequestUrl(server.BaseAddress + "/connect/authorize").CreateAuthorizeUrl(
            clientId: clientId,
            responseType: "code",
            scope: scope,
            redirectUri: redirectUri,
            state: State,
            nonce: Nonce,
            loginHint: loginHint,
            prompt: prompt,
            maxAge: maxAge,
            idTokenHint: idTokenHint,
            codeChallenge: pkce ? Challenge : null,
            codeChallengeMethod: pkce ? "S256" : null,
            responseMode: responseMode,
            extra: extra);
}
