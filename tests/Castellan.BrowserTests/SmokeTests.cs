using Castellan.BrowserTests.Infrastructure;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Castellan.BrowserTests;

/// <summary>That Playwright drives the system's Chromium at all: a page from Kestrel, loaded by name (localhost).</summary>
public sealed class SmokeTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Chromium_loads_a_page_served_by_kestrel()
    {
        using var root = new TempDirectory();
        var app = WebApplication.CreateBuilder(TestApp.Args(root.Path)).Build();
        app.MapGet("/", () => Results.Content("<!DOCTYPE html><title>Smoke</title><h1 id=\"greeting\">Hello from Kestrel</h1>", "text/html; charset=utf-8"));
        await using var server = await TestApp.StartAsync(app);
        var port = new Uri(server.BaseAddress).Port;
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync($"http://localhost:{port}/");

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal("Smoke", await page.TitleAsync());
        await Assertions.Expect(page.Locator("#greeting")).ToHaveTextAsync("Hello from Kestrel");
    }
}
