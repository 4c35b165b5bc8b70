using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Castellan.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Sessions;

/// <summary>
/// The session is an ASP.NET Core cookie (<see cref="CastellanSessionDefaults.AuthenticationScheme"/>) whose
/// principal carries <c>sub</c>, <c>sid</c>, <c>auth_time</c>, <c>amr</c> and the user's name; the clients that
/// got tokens in the session ride in its properties, for logout.
/// </summary>
internal sealed partial class DefaultSignInService(
    IUserStore users,
    LoginThrottle throttle,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<DefaultSignInService> logger) : ICastellanSignInService
{
    internal const string ClientsItem = "castellan.clients";

    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public async ValueTask<SignInResult> PasswordSignInAsync(HttpContext httpContext, string username, string password, CancellationToken cancellationToken)
    {
        var address = httpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password) || username.Length > _limits.Username || password.Length > _limits.Password)
        {
            return new SignInResult(SignInStatus.InvalidCredentials);
        }

        if (throttle.RetryAfter(username, address) is { } wait)
        {
            LogThrottled(logger, address);
            return new SignInResult(SignInStatus.Throttled, RetryAfter: wait);
        }

        var user = await users.ValidateCredentialsAsync(username, password, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            throttle.RecordFailure(username, address);
            LogFailed(logger, address);
            return new SignInResult(SignInStatus.InvalidCredentials);
        }

        if (!user.IsActive)
        {
            LogInactive(logger, user.SubjectId);
            return new SignInResult(SignInStatus.Inactive);
        }

        throttle.RecordSuccess(username);
        await SignInAsync(httpContext, user, [AuthenticationMethods.Password], cancellationToken).ConfigureAwait(false);
        return new SignInResult(SignInStatus.Success, user);
    }

    public async Task SignInAsync(HttpContext httpContext, CastellanUser user, IReadOnlyList<string> authenticationMethods, CancellationToken cancellationToken)
    {
        var claims = new List<Claim>
        {
            new(SessionClaims.Subject, user.SubjectId),
            new(SessionClaims.SessionId, NewSessionId()),
            new(SessionClaims.AuthTime, time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            new(SessionClaims.Name, user.DisplayName),
        };
        foreach (var method in authenticationMethods)
        {
            claims.Add(new Claim(SessionClaims.AuthenticationMethod, method));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, CastellanSessionDefaults.AuthenticationScheme, SessionClaims.Name, null));
        await httpContext.SignInAsync(CastellanSessionDefaults.AuthenticationScheme, principal, new AuthenticationProperties()).ConfigureAwait(false);
        LogSignedIn(logger, user.SubjectId);
    }

    public Task<UserSession?> GetSessionAsync(HttpContext httpContext) => CurrentSessionAsync(httpContext);

    /// <summary>The session of this request (its cookie), or null; the one place the engine reads it.</summary>
    internal static async Task<UserSession?> CurrentSessionAsync(HttpContext httpContext)
        => ToSession(await httpContext.AuthenticateAsync(CastellanSessionDefaults.AuthenticationScheme).ConfigureAwait(false));

    internal static UserSession? ToSession(AuthenticateResult result)
    {
        if (!result.Succeeded || result.Principal is not { } principal)
        {
            return null;
        }

        var subject = principal.FindFirst(SessionClaims.Subject)?.Value;
        var sid = principal.FindFirst(SessionClaims.SessionId)?.Value;
        if (subject is null || sid is null
            || !long.TryParse(principal.FindFirst(SessionClaims.AuthTime)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var authTime))
        {
            return null;
        }

        var amr = principal.FindAll(SessionClaims.AuthenticationMethod).Select(c => c.Value).ToArray();
        var clients = result.Properties?.Items.TryGetValue(ClientsItem, out var list) == true && list is not null
            ? list.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : [];
        return new UserSession(subject, sid, DateTimeOffset.FromUnixTimeSeconds(authTime), amr, principal.FindFirst(SessionClaims.Name)?.Value, clients);
    }

    /// <summary>
    /// Adds <paramref name="clientId"/> to the session's clients (for front- and back-channel logout), re-issuing the
    /// cookie only when the client is new to the session.
    /// </summary>
    internal static async Task AddClientAsync(HttpContext httpContext, string clientId)
    {
        var result = await httpContext.AuthenticateAsync(CastellanSessionDefaults.AuthenticationScheme).ConfigureAwait(false);
        if (!result.Succeeded || result.Principal is null)
        {
            return;
        }

        var properties = result.Properties ?? new AuthenticationProperties();
        var existing = properties.Items.TryGetValue(ClientsItem, out var list) ? list ?? "" : "";
        if (existing.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(clientId, StringComparer.Ordinal))
        {
            return;
        }

        properties.Items[ClientsItem] = existing.Length == 0 ? clientId : existing + " " + clientId;
        await httpContext.SignInAsync(CastellanSessionDefaults.AuthenticationScheme, result.Principal, properties).ConfigureAwait(false);
    }

    /// <summary>128 random bits, base64url: the <c>sid</c> of OpenID Connect Front- and Back-Channel Logout.</summary>
    private static string NewSessionId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

    [LoggerMessage(3100, LogLevel.Information, "A user signed in (sub {SubjectId}).", EventName = "UserSignedIn")]
    private static partial void LogSignedIn(ILogger logger, string subjectId);

    [LoggerMessage(3101, LogLevel.Information, "A sign-in failed from {Address}: unknown user or wrong password.", EventName = "UserSignInFailed")]
    private static partial void LogFailed(ILogger logger, string address);

    [LoggerMessage(3102, LogLevel.Warning, "Sign-in attempts from {Address} or for the account are throttled after repeated failures.", EventName = "UserSignInThrottled")]
    private static partial void LogThrottled(ILogger logger, string address);

    [LoggerMessage(3103, LogLevel.Information, "An inactive user (sub {SubjectId}) tried to sign in.", EventName = "InactiveUserSignIn")]
    private static partial void LogInactive(ILogger logger, string subjectId);
}

/// <summary>Claim types of the session principal.</summary>
internal static class SessionClaims
{
    public const string Subject = "sub";
    public const string SessionId = "sid";
    public const string AuthTime = "auth_time";
    public const string AuthenticationMethod = "amr";
    public const string Name = "name";
}

/// <summary>RFC 8176 authentication method reference values.</summary>
public static class AuthenticationMethods
{
    public const string Password = "pwd";
    public const string OneTimePassword = "otp";
    public const string HardwareKey = "hwk";
    public const string MultipleFactors = "mfa";
}
