using Castellan.Host;

try
{
    await CastellanHostApp.Build(args).RunAsync();
    return 0;
}
catch (Castellan.CastellanConfigurationException ex)
{
    // A configuration mistake is the operator's to fix: say what, without a stack trace.
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("Castellan options are invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", ex.Failures));
    return 2;
}
