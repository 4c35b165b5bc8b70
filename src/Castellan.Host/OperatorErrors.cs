using Microsoft.AspNetCore.Connections;

namespace Castellan.Host;

/// <summary>Operator mistakes (a bad configuration, a missing or unreadable file, a port in use): a message and exit code 2, not a stack trace.</summary>
internal static class OperatorErrors
{
    public const int ExitCode = 2;

    public static bool Is(Exception ex) => ex is CastellanConfigurationException
        or Microsoft.Extensions.Options.OptionsValidationException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
        or InvalidDataException or System.Text.Json.JsonException
        or System.Security.Cryptography.CryptographicException or ArgumentException
        or Castellan.Keys.KeyStoreException or Castellan.Stores.StoreUnavailableException
        || IsAddressInUse(ex);

    public static string Describe(Exception ex) => ex switch
    {
        Microsoft.Extensions.Options.OptionsValidationException options =>
            "Castellan options are invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", options.Failures),
        _ when IsAddressInUse(ex) => $"{OneLine(ex.Message)} Another process is listening there; stop it, or start Castellan on another address with --urls (e.g. --urls http://127.0.0.1:5001).",
        Castellan.Keys.KeyStoreException => "The signing key folder cannot be used. " + ex.Message + " Set Castellan:KeyManagement:KeyPath to a folder this user may write.",
        Castellan.Stores.StoreUnavailableException => ex.Message + " Check ConnectionStrings:Castellan and that the database server is running.",
        InvalidDataException or System.Text.Json.JsonException => "A configuration file is not valid JSON: " + ex.Message,
        System.Security.Cryptography.CryptographicException or ArgumentException => "The signing key could not be loaded: " + ex.Message,
        _ => ex.Message,
    };

    /// <summary>Kestrel reports a taken port as an IOException wrapping <see cref="AddressInUseException"/>.</summary>
    private static bool IsAddressInUse(Exception ex) => ex is AddressInUseException || ex.InnerException is AddressInUseException;

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
