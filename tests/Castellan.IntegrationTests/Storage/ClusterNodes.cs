using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// Nodes of one cluster: host processes, each in its own empty working folder (its content root) on its own port,
/// all on one PostgreSQL database, configured by one file as an operator would.
/// </summary>
internal sealed class ClusterNodes : IAsyncDisposable
{
    public const string Issuer = "https://login.cluster.test";
    public const string RedirectUri = "https://app.cluster.test/callback";
    public const string ApiSecret = "api1-introspection-secret";
    public const string M2mSecret = "m2m-secret-long-enough";
    public const string WebSecret = "web-secret-long-enough";

    private readonly List<(HostProcess Process, TempDirectory Folder)> _started = [];
    private readonly TempDirectory _config = new();

    public ClusterNodes(string connectionString)
    {
        ConnectionString = connectionString;
        ConfigFile = Path.Combine(_config.Path, "castellan.json");
        File.WriteAllText(ConfigFile, $$"""
        {
          "ConnectionStrings": { "Castellan": {{JsonSerializer.Serialize(connectionString)}} },
          "Castellan": {
            "IssuerUri": "{{Issuer}}",
            "Storage": { "Provider": "PostgreSql", "CleanupInterval": "00:00:02" },
            "KeyManagement": { "KeyCacheDuration": "00:00:01" },
            "ConfigurationCacheLifetime": "00:00:01",
            "ApiScopes": [ { "Name": "api1" } ],
            "ApiResources": [ { "Name": "api1", "Scopes": [ "api1" ], "ApiSecrets": [ { "Value": "{{ApiSecret}}" } ] } ],
            "IdentityResources": [ { "Name": "openid", "UserClaims": [ "sub" ] } ],
            "Clients": [
              { "ClientId": "m2m", "ClientSecrets": [ { "Value": "{{M2mSecret}}" } ], "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] },
              { "ClientId": "ref", "ClientSecrets": [ { "Value": "{{M2mSecret}}" } ], "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ], "AccessTokenType": "Reference" },
              { "ClientId": "web", "ClientSecrets": [ { "Value": "{{WebSecret}}" } ], "AllowedGrantTypes": [ "authorization_code", "password" ],
                "AllowOfflineAccess": true, "RedirectUris": [ "{{RedirectUri}}" ], "AllowedScopes": [ "openid", "api1" ] }
            ],
            "TestUsers": [ { "SubjectId": "alice-id", "Username": "alice", "Password": "alice-password" } ]
          }
        }
        """);
    }

    public string ConnectionString { get; }

    public string ConfigFile { get; }

    /// <summary>Starts a node and returns it once it answers.</summary>
    public async Task<Node> StartAsync(params string[] extra)
    {
        var (address, process) = Launch(extra);
        await process.WaitUntilListeningAsync(address);
        return new Node(address, process);
    }

    /// <summary>Starts several nodes at the same moment.</summary>
    public async Task<Node[]> StartTogetherAsync(int count)
    {
        var starts = Enumerable.Range(0, count).Select(_ => Launch([])).ToArray();
        foreach (var (address, process) in starts)
        {
            await process.WaitUntilListeningAsync(address);
        }

        return starts.Select(s => new Node(s.Address, s.Process)).ToArray();
    }

    /// <summary>A host process in an empty folder of its own (its content root), on a free port, in Production.</summary>
    private (string Address, HostProcess Process) Launch(string[] extra)
    {
        var folder = new TempDirectory();
        var address = $"http://127.0.0.1:{TestApp.FreePort()}";
        var process = HostProcess.Start(folder.Path, ["--config", ConfigFile, "--contentRoot", folder.Path, "--urls", address, "--environment", "Production", .. extra]);
        _started.Add((process, folder));
        return (address, process);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, folder) in _started)
        {
            await process.DisposeAsync();
            folder.Dispose();
        }

        _config.Dispose();
    }

    public sealed class Node(string address, HostProcess process) : IDisposable
    {
        public string Address { get; } = address;

        public HostProcess Process { get; } = process;

        public HttpClient Http { get; } = new() { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(30) };

        public Task<HttpResponseMessage> TokenAsync(string clientId, string secret, params (string Name, string Value)[] parameters)
            => DPoPTokenAsync(null, clientId, secret, parameters);

        /// <param name="proof">A DPoP proof for the token endpoint (RFC 9449 §4), or null for none.</param>
        public async Task<HttpResponseMessage> DPoPTokenAsync(string? proof, string clientId, string secret, params (string Name, string Value)[] parameters)
        {
            var form = new List<KeyValuePair<string, string>> { new("client_id", clientId), new("client_secret", secret) };
            form.AddRange(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
            using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = new FormUrlEncodedContent(form) };
            if (proof is not null)
            {
                request.Headers.Add("DPoP", proof);
            }

            return await Http.SendAsync(request);
        }

        public async Task<JsonElement> TokenJsonAsync(string clientId, string secret, params (string Name, string Value)[] parameters)
        {
            using var response = await TokenAsync(clientId, secret, parameters);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.Clone();
        }

        public async Task<bool> IsActiveAsync(string token)
        {
            using var response = await Http.PostAsync("connect/introspect", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = "api1", ["client_secret"] = ApiSecret, ["token"] = token,
            }));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.GetProperty("active").GetBoolean();
        }

        public async Task<string> JwksAsync() => await Http.GetStringAsync(".well-known/openid-configuration/jwks");

        public void Dispose() => Http.Dispose();
    }
}

/// <summary>A browser for the host's real pages: cookies kept across nodes of one site, redirects one at a time, the login form filled in.</summary>
internal sealed class ClusterBrowser : IDisposable
{
    private readonly CookieContainer _cookies = new();
    private readonly HttpClient _http;
    private readonly string _password;

    /// <param name="password">Alice's password on the login page.</param>
    public ClusterBrowser(string password = "alice-password")
    {
        _password = password;
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = _cookies, UseCookies = true }) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// Copies the cookies <paramref name="from"/> set to <paramref name="to"/>: the nodes sit behind one load
    /// balancer in production, so the browser sends them one site's cookies.
    /// </summary>
    public void ShareCookies(string from, string to)
    {
        foreach (Cookie cookie in _cookies.GetCookies(new Uri(from)))
        {
            _cookies.Add(new Uri(to), new Cookie(cookie.Name, cookie.Value, "/"));
        }
    }

    public string? CookieValue(string node, string name) => _cookies.GetCookies(new Uri(node))[name]?.Value;

    public static string AuthorizeUrl(string node, string challenge, string prompt = "")
        => $"{node}/connect/authorize?client_id=web&response_type=code&scope={Uri.EscapeDataString("openid api1 offline_access")}" +
           $"&redirect_uri={Uri.EscapeDataString(ClusterNodes.RedirectUri)}&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256" +
           (prompt.Length > 0 ? "&prompt=" + prompt : "");

    /// <summary>Follows redirects on the node until one leaves for the client's redirect URI, signing in on the login page when it comes.</summary>
    public async Task<Uri> RunAsync(string node, string url, bool signIn)
    {
        for (var step = 0; step < 10; step++)
        {
            using var response = await _http.GetAsync(url);
            if (response.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.Redirect)
            {
                var location = new Uri(new Uri(node), response.Headers.Location!);
                if (location.AbsoluteUri.StartsWith(ClusterNodes.RedirectUri, StringComparison.Ordinal))
                {
                    return location;
                }

                url = location.AbsoluteUri;
                continue;
            }

            var html = await response.Content.ReadAsStringAsync();
            Assert.True(signIn && response.StatusCode == HttpStatusCode.OK && html.Contains("name=\"password\"", StringComparison.Ordinal),
                $"unexpected page at {url}: {(int)response.StatusCode} {html[..Math.Min(300, html.Length)]}");
            var document = new HtmlParser().ParseDocument(html);
            var form = (IHtmlFormElement)document.QuerySelector("form")!;
            var fields = form.QuerySelectorAll("input[type=hidden]").Cast<IHtmlInputElement>()
                .Select(i => new KeyValuePair<string, string>(i.Name!, i.Value)).ToList();
            fields.Add(new("username", "alice"));
            fields.Add(new("password", _password));
            fields.Add(new("button", "login"));
            var action = new Uri(new Uri(url), form.GetAttribute("action") ?? url);
            using var posted = await _http.PostAsync(action, new FormUrlEncodedContent(fields));
            Assert.True(posted.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther, $"login answered {(int)posted.StatusCode}");
            url = new Uri(action, posted.Headers.Location!).AbsoluteUri;
            signIn = false;
        }

        throw new InvalidOperationException("too many redirects");
    }

    public static string Code(Uri callback)
        => Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(callback.Query)["code"].ToString() is { Length: > 0 } code
            ? code
            : throw new InvalidOperationException("no code in " + callback);

    public void Dispose() => _http.Dispose();
}
