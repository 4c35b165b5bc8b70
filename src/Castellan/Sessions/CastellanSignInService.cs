using Microsoft.AspNetCore.Http;

namespace Castellan.Sessions;

/// <summary>
/// Signs users in and out of the single sign-on session (a cookie of <see cref="CastellanSessionDefaults.AuthenticationScheme"/>).
/// The login page calls <see cref="PasswordSignInAsync"/>; pages that authenticate users another way (passkeys, an
/// external provider) call <see cref="SignInAsync"/> once they know who the user is.
/// </summary>
public interface ICastellanSignInService
{
    /// <summary>
    /// Checks the credentials (failed attempts are limited per account and per client address), and on success
    /// starts the session with <c>amr</c> <c>pwd</c>.
    /// </summary>
    ValueTask<SignInResult> PasswordSignInAsync(HttpContext httpContext, string username, string password, CancellationToken cancellationToken);

    /// <summary>Starts a session for <paramref name="user"/>: a new <c>sid</c>, <c>auth_time</c> now.</summary>
    /// <param name="authenticationMethods">RFC 8176 values, e.g. <c>pwd</c>, <c>otp</c>, <c>hwk</c>.</param>
    Task SignInAsync(HttpContext httpContext, Users.CastellanUser user, IReadOnlyList<string> authenticationMethods, CancellationToken cancellationToken);

    /// <returns>The signed-in session of this request, or null when there is none.</returns>
    Task<UserSession?> GetSessionAsync(HttpContext httpContext);
}

/// <summary>The outcome of a password sign-in.</summary>
public sealed record SignInResult(SignInStatus Status, Users.CastellanUser? User = null, TimeSpan? RetryAfter = null)
{
    public bool Succeeded => Status == SignInStatus.Success;
}

public enum SignInStatus
{
    Success,

    /// <summary>Unknown username or wrong password; the page must not say which.</summary>
    InvalidCredentials,

    /// <summary>The credentials were right but the user is not active.</summary>
    Inactive,

    /// <summary>Too many failed attempts for this account or from this address; try again after <see cref="SignInResult.RetryAfter"/>.</summary>
    Throttled,
}

/// <summary>A signed-in session at Castellan.</summary>
public sealed record UserSession(string SubjectId, string SessionId, DateTimeOffset AuthTime, IReadOnlyList<string> AuthenticationMethods,
    string? DisplayName, IReadOnlyCollection<string> ClientIds);

public static class CastellanSessionDefaults
{
    /// <summary>The cookie authentication scheme of the single sign-on session.</summary>
    public const string AuthenticationScheme = "Castellan.Session";
}
