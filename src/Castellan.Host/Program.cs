using Castellan.Host;

if (HostCommands.IsCommand(args))
{
    return await HostCommands.RunAsync(args, Console.Out, Console.Error, Console.In);
}

// Operator mistakes (a bad configuration, a missing or unreadable file, a port in use) end with a message and
// exit code 2, not a stack trace.
WebApplication app;
try
{
    app = CastellanHostApp.Build(args);
}
catch (Exception ex) when (OperatorErrors.Is(ex))
{
    await Console.Error.WriteLineAsync(OperatorErrors.Describe(ex));
    return OperatorErrors.ExitCode;
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (OperatorErrors.Is(ex))
{
    await Console.Error.WriteLineAsync(OperatorErrors.Describe(ex));
    return OperatorErrors.ExitCode;
}
