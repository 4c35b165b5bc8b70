namespace Castellan.Host.Ui;

/// <summary>The pages' log events (host events 20-29). Never a password, a username or a return URL: they are the user's input.</summary>
internal static partial class Log
{
    [LoggerMessage(20, LogLevel.Information, "The {Page} page ignored a return URL that is not a pending authorization request of this server (expired, or an open-redirect attempt).", EventName = "ReturnUrlRejected")]
    public static partial void ReturnUrlRejected(ILogger logger, string page);

    [LoggerMessage(21, LogLevel.Information, "A sign-in on the login page failed: {Status}.", EventName = "SignInFailed")]
    public static partial void SignInFailed(ILogger logger, Castellan.Sessions.SignInStatus status);
}
