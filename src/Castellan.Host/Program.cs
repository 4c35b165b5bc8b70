using Castellan.Host;

// Operator mistakes (a bad configuration, a missing or unreadable file) end with a message and exit code 2,
// not a stack trace.
WebApplication app;
try
{
    app = CastellanHostApp.Build(args);
}
catch (Exception ex) when (IsOperatorError(ex))
{
    await Console.Error.WriteLineAsync(Describe(ex));
    return 2;
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (IsOperatorError(ex))
{
    await Console.Error.WriteLineAsync(Describe(ex));
    return 2;
}

static bool IsOperatorError(Exception ex) => ex is Castellan.CastellanConfigurationException
    or Microsoft.Extensions.Options.OptionsValidationException
    or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
    or InvalidDataException or System.Text.Json.JsonException
    or System.Security.Cryptography.CryptographicException or ArgumentException;

static string Describe(Exception ex) => ex switch
{
    Microsoft.Extensions.Options.OptionsValidationException options =>
        "Castellan options are invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", options.Failures),
    InvalidDataException or System.Text.Json.JsonException => "A configuration file is not valid JSON: " + ex.Message,
    System.Security.Cryptography.CryptographicException or ArgumentException => "The signing key could not be loaded: " + ex.Message,
    _ => ex.Message,
};
