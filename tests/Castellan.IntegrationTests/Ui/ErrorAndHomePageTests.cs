using System.Net;
using Castellan.Interaction;
using Castellan.Sessions;

namespace Castellan.IntegrationTests.Ui;

public sealed class ErrorAndHomePageTests
{
    [Fact]
    public async Task Error_page_shows_the_servers_error_with_its_request_id_and_answers_400()
    {
        await using var host = await UiHost.StartAsync();
        host.Interaction.Errors["e1"] = new ErrorContext("unauthorized_client", "The client is not allowed to use this redirect URI.", "req-0042", DateTimeOffset.UnixEpoch);

        var (response, document) = await host.GetPageAsync("error?errorId=e1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unauthorized_client", document.QuerySelector(".error-code")!.TextContent);
        Assert.Equal("The client is not allowed to use this redirect URI.", document.QuerySelector(".error-description")!.TextContent);
        Assert.Equal("req-0042", document.QuerySelector(".request-id")!.TextContent);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Error_page_with_an_unknown_id_shows_a_generic_message_and_echoes_nothing()
    {
        await using var host = await UiHost.StartAsync();

        var (response, document) = await host.GetPageAsync("error?errorId=%3Cb%3Einjected-marker%3C%2Fb%3E");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(document.QuerySelector(".error-code"));
        Assert.DoesNotContain("injected-marker", document.DocumentElement.OuterHtml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Home_page_names_the_product_and_offers_sign_in_or_sign_out()
    {
        await using var host = await UiHost.StartAsync();

        var (anonymous, signedOut) = await host.GetPageAsync("");
        host.SignIn.Session = new UserSession("1", "sid", DateTimeOffset.UnixEpoch, ["pwd"], "Alice Smith", []);
        var (_, signedIn) = await host.GetPageAsync("");

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Equal("Castellan", signedOut.QuerySelector("h1")!.TextContent);
        Assert.Equal("/account/login", signedOut.QuerySelector("a#sign-in")!.GetAttribute("href"));
        Assert.Null(signedOut.QuerySelector("a#sign-out"));
        Assert.Equal("/account/logout", signedIn.QuerySelector("a#sign-out")!.GetAttribute("href"));
        Assert.Contains("Alice Smith", signedIn.QuerySelector("main")!.TextContent, StringComparison.Ordinal);
    }
}
