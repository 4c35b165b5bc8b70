using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Ui;

/// <summary><c>Castellan:Branding</c>: what the pages show, and the values the host refuses.</summary>
public sealed class BrandingTests
{
    [Fact]
    public async Task Name_colour_logo_and_footer_appear_on_the_pages()
    {
        await using var host = await UiHost.StartAsync("""
            "Branding": { "Name": "Acme Login", "PrimaryColor": "#C0FFEE", "LogoUrl": "https://cdn.example.com/acme.svg", "FooterText": "Acme Corp & friends" }
            """);

        var (_, document) = await host.GetPageAsync("account/login");

        Assert.Equal("Sign in - Acme Login", document.Title);
        Assert.Equal("Acme Login", document.QuerySelector("header .brand-name")!.TextContent);
        Assert.Equal("https://cdn.example.com/acme.svg", document.QuerySelector("header img")!.GetAttribute("src"));
        Assert.Equal("Acme Corp & friends", document.QuerySelector("footer")!.TextContent);
        Assert.StartsWith(":root{--primary:#c0ffee}", document.QuerySelector("style")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_branding_the_pages_say_Castellan()
    {
        await using var host = await UiHost.StartAsync();

        var (_, document) = await host.GetPageAsync("");

        Assert.Equal("Castellan", document.QuerySelector("header .brand-name")!.TextContent);
        Assert.Null(document.QuerySelector("footer"));
    }

    [Theory]
    [InlineData("\"PrimaryColor\": \"red\"", "Castellan:Branding:PrimaryColor: 'red' is not a CSS hex colour")]
    [InlineData("\"PrimaryColor\": \"#fff\"", "Castellan:Branding:PrimaryColor")]
    [InlineData("\"PrimaryColor\": \"#12345g\"", "Castellan:Branding:PrimaryColor")]
    [InlineData("\"PrimaryColor\": \"#123456}body{display:none\"", "Castellan:Branding:PrimaryColor")]
    [InlineData("\"LogoUrl\": \"http://cdn.example.com/logo.svg\"", "Castellan:Branding:LogoUrl")]
    [InlineData("\"LogoUrl\": \"//cdn.example.com/logo.svg\"", "Castellan:Branding:LogoUrl")]
    [InlineData("\"LogoUrl\": \"javascript:alert(1)\"", "Castellan:Branding:LogoUrl")]
    [InlineData("\"Name\": \" \"", "Castellan:Branding:Name")]
    [InlineData("\"PrimaryColour\": \"#123456\"", "did you mean 'PrimaryColor'?")]
    public void A_bad_branding_value_is_a_configuration_error(string entry, string expected)
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "c.json");
        File.WriteAllText(config, "{ \"Castellan\": { \"ApiScopes\": [ { \"Name\": \"api1\" } ], \"Branding\": { " + entry + " } } }");

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
