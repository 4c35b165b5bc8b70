using Microsoft.AspNetCore.Mvc.RazorPages;

namespace WebApp.Pages;

public sealed class IndexModel : PageModel
{
    public void OnGet()
    {
    }
}
