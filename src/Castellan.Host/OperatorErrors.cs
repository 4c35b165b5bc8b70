namespace Castellan.Host;

/// <summary>Operator mistakes (a bad configuration, a missing or unreadable file): a message and exit code 2, not a stack trace.</summary>
internal static class OperatorErrors
{
    public const int ExitCode = 2;

    public static bool Is(Exception ex) => ex is CastellanConfigurationException
        or Microsoft.Extensions.Options.OptionsValidationException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
        or InvalidDataException or System.Text.Json.JsonException
        or System.Security.Cryptography.CryptographicException or ArgumentException;

    public static string Describe(Exception ex) => ex switch
    {
        Microsoft.Extensions.Options.OptionsValidationException options =>
            "Castellan options are invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", options.Failures),
        InvalidDataException or System.Text.Json.JsonException => "A configuration file is not valid JSON: " + ex.Message,
        System.Security.Cryptography.CryptographicException or ArgumentException => "The signing key could not be loaded: " + ex.Message,
        _ => ex.Message,
    };
}
