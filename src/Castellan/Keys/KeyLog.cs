using Microsoft.Extensions.Logging;

namespace Castellan.Keys;

/// <summary>Key management events: 1000s.</summary>
internal static partial class KeyLog
{
    [LoggerMessage(1000, LogLevel.Information, "Created signing key {KeyId} ({Algorithm}) in the key store.", EventName = "SigningKeyCreated")]
    public static partial void KeyCreated(ILogger logger, string keyId, string algorithm);

    [LoggerMessage(1001, LogLevel.Information, "Deleted signing key {KeyId} ({Algorithm}): its retention period is over.", EventName = "SigningKeyDeleted")]
    public static partial void KeyDeleted(ILogger logger, string keyId, string algorithm);

    [LoggerMessage(1002, LogLevel.Debug, "Key ring loaded: signing with {SigningKeys}; publishing {PublishedCount} keys; next refresh at {RefreshAfter}.", EventName = "KeyRingLoaded")]
    public static partial void KeyRingLoaded(ILogger logger, string signingKeys, int publishedCount, DateTimeOffset refreshAfter);

    [LoggerMessage(1003, LogLevel.Error, "Signing key {KeyId} could not be decrypted or read and is ignored. Was the Data Protection key ring lost or changed?", EventName = "SigningKeyUnreadable")]
    public static partial void KeyUnreadable(ILogger logger, string keyId, Exception exception);

    [LoggerMessage(1004, LogLevel.Error, "Key file {Path} could not be read and is ignored; the other keys load and rotation goes on.", EventName = "KeyFileUnreadable")]
    public static partial void UnreadableKeyFile(ILogger logger, string path, Exception exception);

    [LoggerMessage(1005, LogLevel.Error, "Refreshing the signing keys failed; the previous keys stay in use and the refresh is retried shortly.", EventName = "KeyRefreshFailed")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(1006, LogLevel.Warning, "Signing keys are stored without encryption (KeyManagement.DataProtectKeys is false).", EventName = "KeysNotProtected")]
    public static partial void KeysNotProtected(ILogger logger);

    [LoggerMessage(1007, LogLevel.Error, "Key file {Path} is ignored: {Reason}. Castellan writes only files named after their key id; remove files you did not expect in the key folder.", EventName = "KeyFileRejected")]
    public static partial void KeyFileRejected(ILogger logger, string path, string reason);

    [LoggerMessage(1008, LogLevel.Error, "Signing key {KeyId} is stored without encryption while KeyManagement.DataProtectKeys is on; it is refused (never published, never used). Someone with write access to the key folder may have planted it.", EventName = "UnprotectedKeyRefused")]
    public static partial void UnprotectedKeyRefused(ILogger logger, string keyId);

    [LoggerMessage(1009, LogLevel.Warning, "Signing key {KeyId} is past its retention but could not be deleted; it is no longer published or used.", EventName = "SigningKeyDeleteFailed")]
    public static partial void KeyDeleteFailed(ILogger logger, string keyId, Exception exception);
}
