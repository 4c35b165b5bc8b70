using Microsoft.Playwright;

namespace Castellan.BrowserTests.InteractiveFlow;

/// <summary>
/// The user's steps through the web app and Castellan's pages, by the pages' HTML contract: login
/// <c>input[name=username]</c>, <c>input[name=password]</c> and the login form's first <c>button[type=submit]</c>;
/// consent <c>button[name=decision][value=allow|deny]</c> and <c>input[name=remember]</c>; logout confirmation
/// <c>button[name=logout][value=yes]</c>. A failing step names itself and the page it was on, and leaves a
/// screenshot in the test output folder.
/// </summary>
public sealed class FlowSteps(IPage page, InteractiveFlowServers servers, string testName)
{
    private int _step;

    public IPage Page => page;

    /// <summary>Runs one step; on failure, throws with the step's name, the current URL and the screenshot's path.</summary>
    public async Task<T> StepAsync<T>(string name, Func<Task<T>> step)
    {
        _step++;
        try
        {
            return await step();
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException or Xunit.Sdk.XunitException or InvalidOperationException)
        {
            var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", $"{testName}-{_step:00}.png");
            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            }
            catch (PlaywrightException)
            {
                screenshot = "(no screenshot)";
            }

            var body = await SafeBodyTextAsync();
            throw new FlowStepException($"Step {_step} '{name}' failed at {page.Url}: {ex.Message}\nScreenshot: {screenshot}\nPage text: {body}", ex);
        }
    }

    public Task StepAsync(string name, Func<Task> step) => StepAsync(name, async () =>
    {
        await step();
        return true;
    });

    /// <summary>From the web app's home page to Castellan's login page.</summary>
    public Task OpenWebAppAndClickSignInAsync() => StepAsync("web app home → Sign in → Castellan login page", async () =>
    {
        await page.GotoAsync(servers.WebAppBaseUrl + "/");
        await page.Locator("#signin").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(servers.Authority + "/", StringComparison.Ordinal));
        await page.Locator("input[name=username]").WaitForAsync();
    });

    public Task LogInAsync(TestUser user) => StepAsync($"log in as {user.Username}", async () =>
    {
        await page.Locator("input[name=username]").FillAsync(user.Username);
        await page.Locator("input[name=password]").FillAsync(user.Password);
        var loginForm = page.Locator("form", new PageLocatorOptions { Has = page.Locator("input[name=username]") });
        await loginForm.Locator("button[type=submit]").First.ClickAsync();
    });

    public Task ConsentAsync(bool remember) => StepAsync("consent page → allow" + (remember ? " (remember)" : ""), async () =>
    {
        var allow = page.Locator("button[name=decision][value=allow]");
        await allow.WaitForAsync();
        Assert.True(page.Url.StartsWith(servers.Authority + "/", StringComparison.Ordinal), $"The consent page should be Castellan's, not {page.Url}.");
        var rememberBox = page.Locator("input[name=remember]");
        if (remember)
        {
            await rememberBox.CheckAsync();
        }
        else if (await rememberBox.CountAsync() > 0)
        {
            await rememberBox.UncheckAsync();
        }

        await allow.ClickAsync();
    });

    /// <summary>Back at the web app's home page (after the form_post to /signin-oidc), signed in.</summary>
    public Task<IReadOnlyDictionary<string, string>> SignedInClaimsAsync(TestUser user) => StepAsync("back on the web app, signed in", async () =>
    {
        await page.WaitForURLAsync(servers.WebAppBaseUrl + "/");
        await Assertions.Expect(page.Locator("#user-name")).ToHaveTextAsync(user.Claims.First(c => c.Type == "name").Value);
        var claims = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in await page.Locator("#claims tbody tr").AllAsync())
        {
            var cells = await row.Locator("td").AllInnerTextsAsync();
            // A claim type may repeat (e.g. amr); the first value is enough for these checks.
            claims.TryAdd(cells[0], cells[1]);
        }

        return (IReadOnlyDictionary<string, string>)claims;
    });

    /// <summary>Signs out at the web app, which goes to Castellan's end-session endpoint with id_token_hint.</summary>
    public Task SignOutAsync() => StepAsync("web app Sign out → Castellan logout", async () =>
    {
        await page.GotoAsync(servers.WebAppBaseUrl + "/");
        await page.Locator("nav button[type=submit]").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(servers.Authority + "/", StringComparison.Ordinal)
                                          || url.StartsWith(servers.WebAppBaseUrl + "/", StringComparison.Ordinal));
    });

    /// <summary>
    /// Castellan may ask to confirm (a logout without id_token_hint must; with one it may skip it): clicks yes when
    /// asked, until <paramref name="done"/> holds.
    /// </summary>
    public Task ConfirmLogoutIfAskedAsync(Func<bool> done, TimeSpan timeout) => StepAsync("Castellan logout (confirm if asked) → logged-out page", async () =>
    {
        var confirm = page.Locator("button[name=logout][value=yes]");
        var confirmed = false;
        await Poll.UntilAsync(async () =>
        {
            if (!confirmed && page.Url.StartsWith(servers.Authority + "/", StringComparison.Ordinal) && await confirm.CountAsync() > 0)
            {
                confirmed = true;
                await confirm.ClickAsync();
            }

            return done();
        }, timeout, "the front-channel logout request to reach the web app");
    });

    private async Task<string> SafeBodyTextAsync()
    {
        try
        {
            var text = await page.Locator("body").InnerTextAsync(new LocatorInnerTextOptions { Timeout = 1_000 });
            return text.Length > 500 ? text[..500] + "…" : text;
        }
        catch (PlaywrightException)
        {
            return "(unavailable)";
        }
        catch (TimeoutException)
        {
            return "(unavailable)";
        }
    }
}

public sealed class FlowStepException(string message, Exception inner) : Exception(message, inner);

/// <summary>Waits for a condition by polling, with a deadline: for effects that arrive in the background.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(100);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
        => UntilAsync(() => Task.FromResult(condition()), timeout, what);
}
