using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace WebApp.Pages;

/// <summary>
/// Signs out here (the cookie) and at Castellan (the OpenID Connect handler redirects to the end-session endpoint
/// with the saved id_token as <c>id_token_hint</c>). POST only, with an antiforgery token, so no other site can sign
/// the user out with a link.
/// </summary>
public sealed class SignoutModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public IActionResult OnPost()
        => SignOut(new AuthenticationProperties { RedirectUri = "/" }, WebAppApp.CookieScheme, WebAppApp.OidcScheme);
}
