using Castellan.Interaction;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Castellan.Host.Pages;

public sealed class ErrorModel(ICastellanInteraction interaction) : PageModel
{
    // Error ids are short server-issued values; a longer one is not looked up.
    private const int MaxErrorIdLength = 200;

    /// <summary>The error, or null for an unknown id: the page then shows a generic message and nothing of the request.</summary>
    public ErrorContext? Error { get; private set; }

    public IActionResult OnGet([FromQuery(Name = "errorId")] string? errorId)
    {
        Error = errorId is { Length: > 0 and <= MaxErrorIdLength } ? interaction.GetErrorContext(errorId) : null;
        var page = Page();
        if (Error is not null)
        {
            page.StatusCode = StatusCodes.Status400BadRequest;
        }

        return page;
    }
}
