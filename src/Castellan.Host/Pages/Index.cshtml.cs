using Castellan.Sessions;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Castellan.Host.Pages;

public sealed class IndexModel : PageModel
{
    public UserSession? Session { get; private set; }

    public async Task OnGetAsync()
    {
        // Resolved only if present: a token service for machine clients alone still has a home page.
        if (HttpContext.RequestServices.GetService<ICastellanSignInService>() is { } signIn)
        {
            Session = await signIn.GetSessionAsync(HttpContext);
        }
    }
}
