using Microsoft.Extensions.Logging;

namespace Castellan.Endpoints.Authorize;

internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Information, "Authorization request refused with {Error} (sent to the client): {Description} {Detail}", EventName = "AuthorizeRejected")]
    public static partial void Rejected(ILogger logger, string error, string? description, string? detail);

    [LoggerMessage(3001, LogLevel.Information, "Authorization request refused with {Error} on the error page (not redirected): {Description}. Request id {RequestId}.", EventName = "AuthorizeErrorPage")]
    public static partial void ErrorPage(ILogger logger, string error, string? description, string requestId);

    [LoggerMessage(3002, LogLevel.Debug, "Authorization code issued to client {ClientId} for subject {SubjectId}.", EventName = "AuthorizationCodeIssued")]
    public static partial void CodeIssued(ILogger logger, string clientId, string subjectId);

    [LoggerMessage(3003, LogLevel.Debug, "Authorization request of client {ClientId} needs the user: {Interaction}.", EventName = "AuthorizeInteractionRequired")]
    public static partial void InteractionRequired(ILogger logger, string clientId, string interaction);

    [LoggerMessage(3004, LogLevel.Error, "The authorization request failed on the server side; the user was shown the error page.", EventName = "AuthorizeFailed")]
    public static partial void Failed(ILogger logger, Exception exception);
}
