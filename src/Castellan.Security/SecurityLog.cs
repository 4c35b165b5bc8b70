using Microsoft.Extensions.Logging;

namespace Castellan.Security;

/// <summary>Castellan.Security events: 9000s.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(9000, LogLevel.Warning, "The in-memory replay cache is full ({Capacity} values that have not expired): new one-time values are refused, so requests carrying them fail, until entries expire. Raise ReplayCacheOptions.MaxEntries or use a distributed replay cache.", EventName = "ReplayCacheFull")]
    public static partial void ReplayCacheFull(ILogger logger, int capacity);
}
