using System.CommandLine;

namespace Castellan.Host.Admin;

/// <summary>Where a command writes and reads: the console, or the test's writers.</summary>
internal sealed record AdminIO(TextWriter Output, TextWriter Error, TextReader Input);

/// <summary>
/// The admin commands of issue 10 (docs/admin-cli.md): clients, scopes, API resources and identity resources in
/// the database, grants, server-side sessions, and the whole stored configuration as a configuration file.
/// </summary>
internal static class AdminCommands
{
    /// <summary>The top-level names, for <see cref="HostCommands.IsCommand"/>.</summary>
    public static readonly IReadOnlyList<string> Names = ["clients", "scopes", "resources", "identity-resources", "grants", "sessions", "config"];

    public static void AddTo(RootCommand root, AdminIO io)
    {
        root.Subcommands.Add(ClientCommands.Create(io));
        root.Subcommands.Add(ItemCommands.Create(AdminKinds.ApiScopes, "API scopes: what a client may ask an API for (scope=...).", io));
        root.Subcommands.Add(ItemCommands.Create(AdminKinds.ApiResources, "API resources: the APIs (audiences) and the scopes each one accepts.", io));
        root.Subcommands.Add(ItemCommands.Create(AdminKinds.IdentityResources, "Identity resources: the OpenID Connect scopes (openid, profile, email, ...) and the user claims each releases.", io));
        root.Subcommands.Add(GrantCommands.Create(io));
        root.Subcommands.Add(SessionCommands.Create(io));
        root.Subcommands.Add(ConfigCommands.Create(io));
    }

    /// <summary>
    /// A command on the database: it takes the server's arguments besides its own (anything it does not know is
    /// configuration), and runs in an <see cref="AdminSession"/>.
    /// </summary>
    public static Command Create(string name, string description, IEnumerable<Symbol> symbols, AdminIO io, Func<ParseResult, AdminSession, CancellationToken, Task<int>> action)
    {
        var command = new Command(name, description) { TreatUnmatchedTokensAsErrors = false };
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.SetAction((result, cancellationToken) => AdminSession.RunAsync([.. result.UnmatchedTokens], io.Error,
            session => action(result, session, cancellationToken), cancellationToken));
        return command;
    }

    /// <summary>The id an item command works on, e.g. <c>clients show &lt;client-id&gt;</c>.</summary>
    public static Argument<string> IdArgument(AdminKind kind) => Positional(kind.IdProperty == nameof(Client.ClientId) ? "client-id" : "name", $"The {kind.IdProperty} of the {kind.Noun}, as `{kind.Command} list` shows it.");

    /// <summary>
    /// A positional argument. Left out, the first of the server's arguments would take its place (they are not
    /// options of the command), so a value like <c>--config</c> is reported as the missing argument.
    /// </summary>
    public static Argument<string> Positional(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.Tokens is [{ Value: var value }] && value.StartsWith('-'))
            {
                result.AddError($"<{name}> is missing: give it right after the command (found '{value}', which is an option).");
            }
        });
        return argument;
    }

    /// <summary>
    /// <paramref name="args"/> with the server's arguments (options the command does not know, such as
    /// <c>--contentRoot /srv</c> or <c>--Castellan:IssuerUri=...</c>, each with its value) moved to the end, so they
    /// cannot take the place of the command's own arguments wherever the operator put them.
    /// </summary>
    public static string[] ServerArgumentsLast(RootCommand root, string[] args)
    {
        var command = root.Parse(args).CommandResult.Command;
        var options = command.Options.ToList();
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            options.AddRange(parent.Options.Where(o => o.Recursive));
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        var takesValue = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            foreach (var name in option.Aliases.Append(option.Name))
            {
                known.Add(name);
                if (option.ValueType != typeof(bool))
                {
                    takesValue.Add(name);
                }
            }
        }

        var own = new List<string>();
        var server = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].Split('=', 2)[0];
            if (known.Contains(name))
            {
                own.Add(args[i]);
                if (takesValue.Contains(args[i]) && i + 1 < args.Length)
                {
                    own.Add(args[++i]);
                }
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Length > 2)
            {
                // The configuration's command-line syntax: --key=value, or --key value.
                server.Add(args[i]);
                if (!args[i].Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
                {
                    server.Add(args[++i]);
                }
            }
            else
            {
                own.Add(args[i]);
            }
        }

        return [.. own, .. server];
    }
}
