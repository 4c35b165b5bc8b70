using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;

namespace Castellan.Host.Admin;

/// <summary>
/// <c>clients</c>: the item commands, a secret generated for a new confidential client, and <c>add-secret</c> /
/// <c>remove-secret</c> to rotate secrets without touching the rest of the client.
/// </summary>
internal static class ClientCommands
{
    private const string ShownOnceEncrypted = "The secret is not shown again (it is stored encrypted): give it to the client now.";

    private const string ShownOnce = "The secret is not shown again (only its hash is stored): give it to the client now.";

    public static Command Create(AdminIO io)
    {
        var kind = AdminKinds.Clients;
        var command = ItemCommands.Create(kind, "Clients: the applications that ask for tokens. A confidential client added without a secret gets a generated one, printed once.", io, GenerateSecretIfNeeded);

        var addId = AdminCommands.IdArgument(kind);
        var secret = new Option<string>("--secret") { Description = "The secret (sha256:BASE64 is taken as already hashed); '-' reads it from standard input, so it stays out of the shell history. Default: a generated secret, printed once." };
        var expiration = new Option<string>("--expiration") { Description = "When the secret stops working, in UTC: e.g. 2027-01-31 or 2027-01-31T12:00:00Z. Default: never." };
        var description = new Option<string>("--description") { Description = "A note to recognise the secret by, e.g. 'rotated 2026-12'; remove-secret can name it." };
        var type = new Option<string>("--type")
        {
            Description = $"{SecretTypes.SharedSecret} (the default: stored as a hash, for client_secret_basic and client_secret_post) or {SecretTypes.HmacSecret} (stored encrypted, for client_secret_jwt).",
            DefaultValueFactory = _ => SecretTypes.SharedSecret,
        };
        type.AcceptOnlyFromAmong(SecretTypes.SharedSecret, SecretTypes.HmacSecret);
        command.Subcommands.Add(AdminCommands.Create("add-secret",
            "Adds a secret to a client of the database, beside its others: rotate by adding the new secret, handing it over, then removing the old one.",
            [addId, secret, type, expiration, description], io,
            (result, session, ct) => AddSecretAsync(session, result.GetValue(addId)!, result.GetValue(secret), result.GetValue(type)!, result.GetValue(expiration), result.GetValue(description), io, ct)));

        var removeId = AdminCommands.IdArgument(kind);
        var index = new Option<int?>("--index") { Description = "The secret's index, as `clients show` lists it." };
        var byDescription = new Option<string>("--description") { Description = "The secret's description (when exactly one secret has it)." };
        command.Subcommands.Add(AdminCommands.Create("remove-secret",
            "Removes one secret of a client of the database, chosen by --index or --description. A confidential client keeps at least one.",
            [removeId, index, byDescription], io,
            (result, session, ct) => RemoveSecretAsync(session, result.GetValue(removeId)!, result.GetValue(index), result.GetValue(byDescription), io.Output, ct)));
        return command;
    }

    /// <summary>A random secret: <paramref name="bytes"/> bytes in lower-case hex.</summary>
    public static string NewSecret(int bytes = 32)
        // Hex: no '+', '/' or '=' that clients would have to form-encode in a Basic header (RFC 6749 §2.3.1).
        => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>A confidential client given no secret could never authenticate: it gets one, printed once after it is stored.</summary>
    private static IReadOnlyList<string> GenerateSecretIfNeeded(Client client)
    {
        if (!client.RequireClientSecret || client.ClientSecrets.Count > 0 || client.AllowedGrantTypes.Count == 0)
        {
            return [];
        }

        var value = NewSecret();
        client.ClientSecrets.Add(Secret.FromPlainText(value));
        return [$"secret: {value}", ShownOnce];
    }

    private static async Task<int> AddSecretAsync(AdminSession session, string clientId, string? given, string type, string? expiration, string? description, AdminIO io, CancellationToken cancellationToken)
    {
        var expires = ParseExpiration(expiration, session.Time.GetUtcNow());
        if (given == "-")
        {
            given = await io.Input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(given))
            {
                throw new AdminException("--secret -: standard input held no secret.");
            }
        }

        if (given is not null && string.IsNullOrWhiteSpace(given.StartsWith(Secret.Sha256Prefix, StringComparison.Ordinal) ? given[Secret.Sha256Prefix.Length..] : given))
        {
            // An empty secret would authenticate a caller who sends none.
            throw new AdminException("--secret is empty. Leave it out to have one generated.");
        }

        var hmac = type == SecretTypes.HmacSecret;
        if (hmac && given is not null && given.StartsWith(Secret.Sha256Prefix, StringComparison.Ordinal))
        {
            throw new AdminException($"--type {SecretTypes.HmacSecret} cannot take a hash: the server keys the HMACs of client_secret_jwt with the secret itself.");
        }

        var generated = given is null ? NewSecret() : null;
        var secret = hmac
            ? new Secret { Type = SecretTypes.HmacSecret, Value = given ?? generated!, Expiration = expires, Description = description }
            : new Secret(Secret.NormalizeConfiguredValue(given ?? generated!), expires) { Description = description };

        var kind = AdminKinds.Clients;
        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var client = ItemCommands.Copy(kind, ItemCommands.FindChangeable(kind, session, before, clientId));
        if (client.ClientSecrets.Any(s => s.Type == secret.Type && s.Value == secret.Value))
        {
            throw new AdminException($"Client '{clientId}' has this secret already.");
        }

        client.ClientSecrets.Add(secret);
        var remaining = session.EnsureValid(before, kind.With(before, client));
        await kind.SaveAsync(session.Store, client, cancellationToken).ConfigureAwait(false);
        await io.Output.WriteLineAsync($"Added secret {client.ClientSecrets.Count - 1} to client '{clientId}' ({client.ClientSecrets.Count} secrets now). {session.Propagation}").ConfigureAwait(false);
        if (generated is not null)
        {
            await io.Output.WriteLineAsync($"secret: {generated}").ConfigureAwait(false);
            await io.Output.WriteLineAsync(hmac ? ShownOnceEncrypted : ShownOnce).ConfigureAwait(false);
        }
        else if (!hmac && !given!.StartsWith(Secret.Sha256Prefix, StringComparison.Ordinal) && given.Length < Secret.RecommendedMinimumLength)
        {
            await io.Output.WriteLineAsync($"Warning: the secret is shorter than {Secret.RecommendedMinimumLength} characters and can be guessed; generate one by leaving --secret out.").ConfigureAwait(false);
        }

        AdminSession.WarnRemaining(remaining, io.Output);
        return 0;
    }

    private static async Task<int> RemoveSecretAsync(AdminSession session, string clientId, int? index, string? description, TextWriter output, CancellationToken cancellationToken)
    {
        if (index is null == description is null)
        {
            throw new AdminException("Name the secret with --index or with --description (one of them); `clients show` lists them.");
        }

        var kind = AdminKinds.Clients;
        var before = await session.LoadAsync(cancellationToken).ConfigureAwait(false);
        var client = ItemCommands.Copy(kind, ItemCommands.FindChangeable(kind, session, before, clientId));
        var secrets = client.ClientSecrets.ToList();
        int position;
        if (index is { } i)
        {
            position = i >= 0 && i < secrets.Count
                ? i
                : throw new AdminException($"Client '{clientId}' has no secret {i}: it has {secrets.Count} (indexes 0 to {secrets.Count - 1}, as `clients show {clientId}` lists them).");
        }
        else
        {
            var matching = secrets.Select((s, p) => (s, p)).Where(x => x.s.Description == description).Select(x => x.p).ToList();
            position = matching switch
            {
                [var only] => only,
                [] => throw new AdminException($"No secret of client '{clientId}' has the description '{description}'. `clients show {clientId}` lists them."),
                _ => throw new AdminException($"{matching.Count} secrets of client '{clientId}' have the description '{description}': remove one by --index ({string.Join(", ", matching)})."),
            };
        }

        secrets.RemoveAt(position);
        client.ClientSecrets = secrets;
        var remaining = session.EnsureValid(before, kind.With(before, client));
        await kind.SaveAsync(session.Store, client, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Removed secret {position} of client '{clientId}' ({secrets.Count} left). {session.Propagation}").ConfigureAwait(false);
        AdminSession.WarnRemaining(remaining, output);
        return 0;
    }

    private static DateTimeOffset? ParseExpiration(string? value, DateTimeOffset now)
    {
        if (value is null)
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
        {
            throw new AdminException($"--expiration: '{ConfigurationSchema.Printable(value)}' is not a date, e.g. 2027-01-31 or 2027-01-31T12:00:00Z.");
        }

        return expires > now ? expires : throw new AdminException($"--expiration {TextTable.Date(expires)} is not in the future.");
    }
}
