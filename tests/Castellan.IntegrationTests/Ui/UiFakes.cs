using System.Collections.Concurrent;
using Castellan.Interaction;
using Castellan.Sessions;
using Castellan.Users;
using Microsoft.AspNetCore.Http;

namespace Castellan.IntegrationTests.Ui;

/// <summary>
/// Stands in for the engine's interaction service so the pages can be tested on their own: a return URL is valid
/// when a test made it pending, and every decision is recorded.
/// </summary>
internal sealed class FakeInteraction : ICastellanInteraction
{
    public const string ConsentedUrl = "/connect/authorize/callback?consented";
    public const string DeniedUrl = "/connect/authorize/callback?denied";

    public ConcurrentDictionary<string, AuthorizationContext> Pending { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, ErrorContext> Errors { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<(string ReturnUrl, ConsentDecision Decision)> Consents { get; } = new();

    public ConcurrentQueue<string> Denied { get; } = new();

    public ConcurrentQueue<string?> SignOuts { get; } = new();

    public LogoutContext Logout { get; set; } = new() { ShowSignOutPrompt = true, IsAuthenticated = true };

    public LoggedOutContext LoggedOut { get; set; } = new();

    /// <summary>Makes <paramref name="returnUrl"/> a pending request of <paramref name="client"/>.</summary>
    public AuthorizationContext AddPending(string returnUrl, Client client, IReadOnlyList<ConsentScope>? scopes = null,
        string? loginHint = null, bool reauthenticate = false)
    {
        var context = new AuthorizationContext
        {
            Client = client,
            Scopes = scopes ?? [new ConsentScope("openid", "Your user identifier", null, Required: true, Emphasize: false, IsIdentityScope: true)],
            LoginHint = loginHint,
            ReauthenticationRequired = reauthenticate,
            ReturnUrl = returnUrl,
        };
        Pending[returnUrl] = context;
        return context;
    }

    public bool IsValidReturnUrl(string? returnUrl) => returnUrl is not null && Pending.ContainsKey(returnUrl);

    public ValueTask<AuthorizationContext?> GetAuthorizationContextAsync(string? returnUrl, CancellationToken cancellationToken)
        => ValueTask.FromResult(returnUrl is not null && Pending.TryGetValue(returnUrl, out var context) ? context : null);

    public ValueTask<string> GrantConsentAsync(HttpContext httpContext, string returnUrl, ConsentDecision decision, CancellationToken cancellationToken)
    {
        if (!IsValidReturnUrl(returnUrl))
        {
            throw new ArgumentException("Not a pending request.", nameof(returnUrl));
        }

        Consents.Enqueue((returnUrl, decision));
        return ValueTask.FromResult(decision.Allow ? ConsentedUrl : DeniedUrl);
    }

    public string DenyAuthorization(string returnUrl)
    {
        if (!IsValidReturnUrl(returnUrl))
        {
            throw new ArgumentException("Not a pending request.", nameof(returnUrl));
        }

        Denied.Enqueue(returnUrl);
        return DeniedUrl;
    }

    public ValueTask<LogoutContext> GetLogoutContextAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
        => ValueTask.FromResult(new LogoutContext
        {
            Client = Logout.Client,
            ShowSignOutPrompt = Logout.ShowSignOutPrompt,
            IsAuthenticated = Logout.IsAuthenticated,
            LogoutId = logoutId,
        });

    public ValueTask<LoggedOutContext> SignOutAsync(HttpContext httpContext, string? logoutId, CancellationToken cancellationToken)
    {
        SignOuts.Enqueue(logoutId);
        return ValueTask.FromResult(LoggedOut);
    }

    public ErrorContext? GetErrorContext(string? errorId) => errorId is not null && Errors.TryGetValue(errorId, out var error) ? error : null;
}

/// <summary>Stands in for the engine's sign-in service: fixed users, and throttling after five failures per username.</summary>
internal sealed class FakeSignIn : ICastellanSignInService
{
    public const int MaxFailures = 5;

    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentDictionary<string, (string Password, CastellanUser User)> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<string> Attempts { get; } = new();

    public ConcurrentQueue<string> SignedIn { get; } = new();

    /// <summary>What <see cref="GetSessionAsync"/> answers.</summary>
    public UserSession? Session { get; set; }

    public void AddUser(string username, string password, bool isActive = true)
        => Users[username] = (password, new CastellanUser("sub-" + username, username, isActive, [new System.Security.Claims.Claim("name", username + " Example")]));

    public ValueTask<SignInResult> PasswordSignInAsync(HttpContext httpContext, string username, string password, CancellationToken cancellationToken)
    {
        Attempts.Enqueue(username);
        if (_failures.GetValueOrDefault(username) >= MaxFailures)
        {
            return ValueTask.FromResult(new SignInResult(SignInStatus.Throttled, RetryAfter: TimeSpan.FromSeconds(30)));
        }

        if (!Users.TryGetValue(username, out var entry) || entry.Password != password)
        {
            _failures.AddOrUpdate(username, 1, (_, n) => n + 1);
            return ValueTask.FromResult(new SignInResult(SignInStatus.InvalidCredentials));
        }

        if (!entry.User.IsActive)
        {
            return ValueTask.FromResult(new SignInResult(SignInStatus.Inactive));
        }

        SignedIn.Enqueue(entry.User.SubjectId);
        return ValueTask.FromResult(new SignInResult(SignInStatus.Success, entry.User));
    }

    public Task SignInAsync(HttpContext httpContext, CastellanUser user, IReadOnlyList<string> authenticationMethods, CancellationToken cancellationToken)
    {
        SignedIn.Enqueue(user.SubjectId);
        return Task.CompletedTask;
    }

    public Task<UserSession?> GetSessionAsync(HttpContext httpContext) => Task.FromResult(Session);
}
