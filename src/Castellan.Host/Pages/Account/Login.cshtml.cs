using System.Globalization;
using Castellan.Host.Ui;
using Castellan.Interaction;
using Castellan.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Castellan.Host.Pages.Account;

// Page models are public because the generated page classes expose them; they are no API.
public sealed class LoginModel(ICastellanInteraction interaction, ICastellanSignInService signIn, Microsoft.Extensions.Options.IOptions<CastellanOptions> options,
    ILogger<LoginModel> logger) : PageModel
{
    /// <summary>One message for an unknown user, a wrong password and an inactive user, so the page does not tell which names exist.</summary>
    public const string InvalidCredentialsMessage = "Invalid username or password";

    public const string ThrottledMessage = "Too many attempts, try again later";

    // Longer input is no credential of a user; refused before the store is asked (the engine's own limits).
    private readonly int _maxUsernameLength = options.Value.InputLengthRestrictions.Username;
    private readonly int _maxPasswordLength = options.Value.InputLengthRestrictions.Password;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Username { get; set; }

    /// <summary>Which submit button was used: the Cancel button sends <c>cancel</c>.</summary>
    [BindProperty]
    public string? Button { get; set; }

    public AuthorizationContext? Authorization { get; private set; }

    /// <summary>The current session, offered as "Continue as" unless the client asked for a new sign-in.</summary>
    public UserSession? Session { get; private set; }

    public string? Message { get; private set; }

    /// <summary>Where "Continue" and a successful sign-in lead: the pending authorization, or the home page.</summary>
    public string Target => ValidReturnUrl ?? "/";

    private string? ValidReturnUrl { get; set; }

    public async Task OnGetAsync()
    {
        await LoadAsync();
        if (Authorization?.LoginHint is { Length: > 0 } hint && hint.Length <= _maxUsernameLength)
        {
            Username = hint;
        }

        if (Authorization?.ReauthenticationRequired != true)
        {
            Session = await signIn.GetSessionAsync(HttpContext);
        }
    }

    // Razor Pages validate the antiforgery token of every POST before this runs (400 without one): no login CSRF.
    public async Task<IActionResult> OnPostAsync(string? password)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (string.Equals(Button, "cancel", StringComparison.Ordinal))
        {
            var returnUrl = ReturnUrls.Valid(interaction, ReturnUrl);

            // RFC 6749 §4.1.2.1: the client learns that the user cancelled (access_denied); without a request, home.
            return Redirect(returnUrl is null ? "/" : interaction.DenyAuthorization(returnUrl));
        }

        if (string.IsNullOrEmpty(Username) || string.IsNullOrEmpty(password)
            || Username.Length > _maxUsernameLength || password.Length > _maxPasswordLength)
        {
            return await FailAsync(SignInStatus.InvalidCredentials, retryAfter: null);
        }

        var result = await signIn.PasswordSignInAsync(HttpContext, Username, password, cancellationToken);
        if (!result.Succeeded)
        {
            return await FailAsync(result.Status, result.RetryAfter);
        }

        // Checked again after sign-in: the request may have expired while the user typed.
        var target = ReturnUrls.Valid(interaction, ReturnUrl);
        if (target is null && !string.IsNullOrEmpty(ReturnUrl))
        {
            Log.ReturnUrlRejected(logger, "login");
        }

        return Redirect(target ?? "/");
    }

    private async Task<IActionResult> FailAsync(SignInStatus status, TimeSpan? retryAfter)
    {
        Log.SignInFailed(logger, status);
        await LoadAsync();
        var page = Page();
        if (status == SignInStatus.Throttled)
        {
            Message = ThrottledMessage;
            page.StatusCode = StatusCodes.Status429TooManyRequests;
            if (retryAfter is { } wait && wait > TimeSpan.Zero)
            {
                // RFC 9110 §10.2.3: delay-seconds.
                Response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }
        }
        else
        {
            Message = InvalidCredentialsMessage;
        }

        return page;
    }

    private async Task LoadAsync()
    {
        ValidReturnUrl = ReturnUrls.Valid(interaction, ReturnUrl);
        if (ValidReturnUrl is null)
        {
            if (!string.IsNullOrEmpty(ReturnUrl))
            {
                Log.ReturnUrlRejected(logger, "login");
            }

            // An invalid return URL is not carried on in the form.
            ReturnUrl = null;
            return;
        }

        Authorization = await interaction.GetAuthorizationContextAsync(ValidReturnUrl, HttpContext.RequestAborted);
        if (Authorization is not null)
        {
            PageSecurityHeaders.AllowFormTargets(HttpContext, Authorization.Client.RedirectUris);
        }
    }
}
