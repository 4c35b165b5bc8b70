using Microsoft.Playwright;

namespace Castellan.BrowserTests.Infrastructure;

/// <summary>
/// One headless Chromium for a test class, driven by Playwright. The browser is the distribution's
/// <c>chromium</c> found on PATH (CI installs Debian's package): Playwright's own browser downloads are never used.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = FindChromium();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Containers often have a small /dev/shm, which crashes Chromium's renderers.
            Args = ["--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh profile (no cookies) with shorter timeouts than Playwright's 30 s, so a broken step fails soon.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        var context = await Browser.NewContextAsync();
        context.SetDefaultTimeout(15_000);
        context.SetDefaultNavigationTimeout(15_000);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>The first executable <c>chromium</c> in a PATH folder.</summary>
    /// <exception cref="InvalidOperationException">There is none: says how to install it.</exception>
    public static string FindChromium()
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var folder in folders)
        {
            var candidate = Path.Combine(folder, OperatingSystem.IsWindows() ? "chromium.exe" : "chromium");
            if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & UnixFileMode.UserExecute) != 0))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "The browser tests need Chromium, and no 'chromium' executable is on PATH. Install the distribution's package " +
            "(Debian: `apt-get install -y chromium`); .ci/run does so. Playwright's own browser download (`playwright install`) is not used.");
    }
}
