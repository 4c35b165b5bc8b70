using Microsoft.Extensions.Logging;

namespace Castellan.Endpoints.Token;

/// <summary>Token endpoint events: 2000s. Never log secrets or tokens: client ids, grant types, jti only.</summary>
internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Debug, "Issued an access token to client {ClientId} ({GrantType}), scopes '{Scopes}'.", EventName = "TokenIssued")]
    public static partial void TokenIssued(ILogger logger, string clientId, string grantType, string scopes);

    [LoggerMessage(2001, LogLevel.Information, "Token request rejected: {Error} ({Description}) for client {ClientId}. {Detail}", EventName = "TokenRequestRejected")]
    public static partial void Rejected(ILogger logger, string error, string? description, string? clientId, string? detail);

    [LoggerMessage(2002, LogLevel.Error, "Token request failed with an unexpected error.", EventName = "TokenRequestFailed")]
    public static partial void Failed(ILogger logger, Exception exception);
}
