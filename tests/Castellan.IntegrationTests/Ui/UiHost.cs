using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Castellan.Host;
using Castellan.Interaction;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Ui;

/// <summary>
/// The ready-to-run host with the pages' engine services replaced by fakes, on a configuration of its own (not the
/// demo), with a browser-like client: cookies kept, redirects not followed, so tests see each 302.
/// </summary>
internal sealed class UiHost : IAsyncDisposable
{
    private readonly TempDirectory _root;
    private readonly TestApp _app;

    private UiHost(TempDirectory root, TestApp app, FakeInteraction interaction, FakeSignIn signIn)
    {
        _root = root;
        _app = app;
        Interaction = interaction;
        SignIn = signIn;
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(app.BaseAddress + "/"),
        };
    }

    public FakeInteraction Interaction { get; }

    public FakeSignIn SignIn { get; }

    public HttpClient Http { get; }

    public string BaseAddress => _app.BaseAddress;

    /// <summary>A web client of the kind the pages serve.</summary>
    public static Client WebClient(string? logoUri = null, bool allowRememberConsent = true) => new()
    {
        ClientId = "web",
        ClientName = "Web App",
        LogoUri = logoUri,
        AllowRememberConsent = allowRememberConsent,
        RedirectUris = { "https://app.example.com/signin-oidc" },
    };

    /// <param name="castellanSection">Extra JSON members of the Castellan section, e.g. <c>"Branding": { ... }</c>.</param>
    public static async Task<UiHost> StartAsync(string? castellanSection = null)
    {
        var root = new TempDirectory();
        try
        {
            var config = Path.Combine(root.Path, "castellan.json");
            await File.WriteAllTextAsync(config, $$"""
            {
              "Castellan": {
                "ApiScopes": [ { "Name": "api1" } ],
                "Clients": [ { "ClientId": "m2m", "ClientSecrets": [ { "Value": "m2m-secret-long-enough" } ], "AllowedGrantTypes": [ "client_credentials" ], "AllowedScopes": [ "api1" ] } ]
                {{(castellanSection is null ? "" : "," + castellanSection)}}
              }
            }
            """);

            var interaction = new FakeInteraction();
            var signIn = new FakeSignIn();

            // AddCastellan registers its services with TryAdd, so these registrations, made before it, win.
            var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config), builder =>
            {
                builder.Services.AddSingleton<ICastellanInteraction>(interaction);
                builder.Services.AddSingleton<ICastellanSignInService>(signIn);
            });
            var started = await TestApp.StartAsync(app);
            Assert.Same(interaction, started.Services.GetRequiredService<ICastellanInteraction>());
            Assert.Same(signIn, started.Services.GetRequiredService<ICastellanSignInService>());
            return new UiHost(root, started, interaction, signIn);
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    public static IHtmlDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    public async Task<(HttpResponseMessage Response, IHtmlDocument Document)> GetPageAsync(string path)
    {
        var response = await Http.GetAsync(path);
        return (response, Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>
    /// Submits <paramref name="form"/> as a browser would: its inputs (hidden ones included, disabled ones not), the
    /// clicked button's name and value, then <paramref name="values"/> on top (a value of null removes the field).
    /// </summary>
    public async Task<HttpResponseMessage> SubmitAsync(IElement form, string pagePath, IElement? button,
        params (string Name, string? Value)[] values)
    {
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var input in form.QuerySelectorAll("input").OfType<IHtmlInputElement>())
        {
            if (input.IsDisabled || string.IsNullOrEmpty(input.Name))
            {
                continue;
            }

            if (input.Type is "checkbox" or "radio" && !input.IsChecked)
            {
                continue;
            }

            fields.Add(new(input.Name, input.Value));
        }

        if (button is IHtmlButtonElement { Name: { Length: > 0 } buttonName } clicked)
        {
            fields.Add(new(buttonName, clicked.Value));
        }

        foreach (var (name, value) in values)
        {
            fields.RemoveAll(f => f.Key == name);
            if (value is not null)
            {
                fields.Add(new(name, value));
            }
        }

        return await PostAsync(pagePath, fields);
    }

    public Task<HttpResponseMessage> PostAsync(string path, IEnumerable<KeyValuePair<string, string>> fields)
        => Http.PostAsync(path, new FormUrlEncodedContent(fields));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
        _root.Dispose();
    }
}
