using Castellan.Host.Ui;
using Castellan.Interaction;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Castellan.Host.Pages.Account;

public sealed class LogoutModel(ICastellanInteraction interaction) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "logoutId")]
    public string? LogoutId { get; set; }

    /// <summary>Set while the page asks whether to sign out.</summary>
    public LogoutContext? Prompt { get; private set; }

    /// <summary>Set once the user is signed out: the page then shows the logged-out view.</summary>
    public LoggedOutContext? LoggedOut { get; private set; }

    /// <summary>The front-channel logout URLs rendered as iframes: absolute http(s) URLs only.</summary>
    public IReadOnlyList<string> FrontChannelLogoutUrls { get; private set; } = [];

    /// <summary>The way back to the client, when it asked for one and it is a URL a link may lead to.</summary>
    public string? PostLogoutRedirectUri { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var context = await interaction.GetLogoutContextAsync(HttpContext, LogoutId, HttpContext.RequestAborted);
        LogoutId = context.LogoutId;

        // RP-Initiated Logout 1.0 §2: without proof that the request comes from a client of this session, a link on
        // any site could sign the user out, so the user confirms with a POST the antiforgery token protects. With
        // nobody signed in there is nothing to protect.
        if (context.ShowSignOutPrompt && context.IsAuthenticated)
        {
            Prompt = context;
            return Page();
        }

        return await SignOutAsync();
    }

    public async Task<IActionResult> OnPostAsync(string? logout)
        => string.Equals(logout, "yes", StringComparison.Ordinal) ? await SignOutAsync() : Redirect("/");

    private async Task<IActionResult> SignOutAsync()
    {
        LoggedOut = await interaction.SignOutAsync(HttpContext, LogoutId, HttpContext.RequestAborted);
        FrontChannelLogoutUrls = LoggedOut.FrontChannelLogoutUrls
            .Where(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            .ToList();
        PageSecurityHeaders.AllowFrames(HttpContext, FrontChannelLogoutUrls);
        PostLogoutRedirectUri = ReturnUrls.IsNavigable(LoggedOut.PostLogoutRedirectUri) ? LoggedOut.PostLogoutRedirectUri : null;
        return Page();
    }
}
