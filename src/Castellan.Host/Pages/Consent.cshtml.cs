using Castellan.Host.Ui;
using Castellan.Interaction;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Castellan.Host.Pages;

public sealed class ConsentModel(ICastellanInteraction interaction, ILogger<ConsentModel> logger) : PageModel
{
    public const string NothingSelectedMessage = "Choose at least one permission, or select No, do not allow.";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>Null when the return URL is not a pending request: the page then shows an error instead.</summary>
    public AuthorizationContext? Authorization { get; private set; }

    /// <summary>The scopes shown checked: all of them at first, the user's choice after a refused submission.</summary>
    public IReadOnlySet<string> Checked { get; private set; } = new HashSet<string>();

    public bool Remember { get; private set; }

    public string? Message { get; private set; }

    /// <summary>The client's logo, only as an absolute https URL (the page's CSP allows no other images from elsewhere).</summary>
    public string? LogoUri => Authorization?.Client.LogoUri is { } logo && Uri.TryCreate(logo, UriKind.Absolute, out var uri)
                              && uri.Scheme == Uri.UriSchemeHttps ? logo : null;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync())
        {
            return NotValid();
        }

        Checked = Authorization!.Scopes.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? decision, string[]? scopes, bool remember)
    {
        if (!await LoadAsync())
        {
            return NotValid();
        }

        var allow = string.Equals(decision, "allow", StringComparison.Ordinal);
        if (!allow && !string.Equals(decision, "deny", StringComparison.Ordinal))
        {
            return BadRequest();
        }

        // Only scopes of this request count, whatever the form carried; required scopes are granted with any allow.
        var requested = Authorization!.Scopes;
        var chosen = new HashSet<string>(scopes ?? [], StringComparer.Ordinal);
        var granted = requested.Where(s => s.Required || chosen.Contains(s.Name)).Select(s => s.Name).ToList();
        if (allow && granted.Count == 0)
        {
            Message = NothingSelectedMessage;
            Checked = chosen;
            Remember = remember;
            return Page();
        }

        var consent = new ConsentDecision
        {
            Allow = allow,
            ScopesGranted = allow ? granted : [],
            Remember = allow && remember && Authorization.Client.AllowRememberConsent,
        };

        string next;
        try
        {
            next = await interaction.GrantConsentAsync(HttpContext, Authorization.ReturnUrl, consent, HttpContext.RequestAborted);
        }
        catch (ArgumentException)
        {
            // The request expired between showing the page and this answer.
            return NotValid();
        }

        return Redirect(next);
    }

    private async Task<bool> LoadAsync()
    {
        var returnUrl = ReturnUrls.Valid(interaction, ReturnUrl);
        Authorization = returnUrl is null ? null : await interaction.GetAuthorizationContextAsync(returnUrl, HttpContext.RequestAborted);
        if (Authorization is null)
        {
            Log.ReturnUrlRejected(logger, "consent");
            return false;
        }

        PageSecurityHeaders.AllowFormTargets(HttpContext, Authorization.Client.RedirectUris);
        return true;
    }

    private PageResult NotValid()
    {
        Authorization = null;
        var page = Page();
        page.StatusCode = StatusCodes.Status400BadRequest;
        return page;
    }
}
