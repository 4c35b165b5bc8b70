using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Interaction;

/// <summary>
/// A pending authorization request while the user is at the login or consent page: the request's parameters and
/// what the pages decided, encrypted and authenticated with Data Protection into the return URL. Nothing is stored
/// server-side, so any node with the shared Data Protection keys continues the flow, and a page cannot change a
/// parameter without the ticket failing to open.
/// </summary>
internal sealed record AuthorizeTicket
{
    public required Dictionary<string, string[]> Parameters { get; init; }

    /// <summary>When the interaction started (unix seconds): a login after it satisfies <c>prompt=login</c> and <c>max_age</c>.</summary>
    public required long Created { get; init; }

    /// <summary>Whether the user must authenticate again (prompt=login, select_account, max_age, another subject).</summary>
    public bool Reauthenticate { get; init; }

    /// <summary>The session that was there when re-authentication was required: a login satisfies it only with a new session.</summary>
    public string? PriorSessionId { get; init; }

    /// <summary>Set once the consent page answered: the scopes the user granted.</summary>
    public string[]? ConsentedScopes { get; init; }

    /// <summary>The subject of the session that consented; the consent counts only for that user.</summary>
    public string? ConsentSubject { get; init; }

    /// <summary>The user cancelled at login or denied at consent.</summary>
    public bool Denied { get; init; }
}

/// <summary>What the end-session endpoint hands the logout page.</summary>
internal sealed record LogoutTicket
{
    public string? ClientId { get; init; }

    public string? PostLogoutRedirectUri { get; init; }

    public string? State { get; init; }

    /// <summary>The subject and session named by a valid id_token_hint, if one came.</summary>
    public string? HintSubject { get; init; }

    public string? HintSessionId { get; init; }

    public required long Created { get; init; }
}

/// <summary>An error the authorize flow shows on the error page instead of redirecting.</summary>
internal sealed record ErrorTicket(string Error, string Description, string RequestId, long Time);

[JsonSerializable(typeof(AuthorizeTicket))]
[JsonSerializable(typeof(LogoutTicket))]
[JsonSerializable(typeof(ErrorTicket))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class TicketJsonContext : JsonSerializerContext;

/// <summary>Protects and opens the tickets; each kind has its own purpose, so one can never be read as another.</summary>
internal sealed class InteractionTickets(IDataProtectionProvider dataProtection, TimeProvider time, IOptions<CastellanOptions> options)
{
    private readonly IDataProtector _authorize = dataProtection.CreateProtector("Castellan.Interaction.Authorize.v1");
    private readonly IDataProtector _logout = dataProtection.CreateProtector("Castellan.Interaction.Logout.v1");
    private readonly IDataProtector _error = dataProtection.CreateProtector("Castellan.Interaction.Error.v1");
    private readonly TimeSpan _lifetime = options.Value.UserInteraction.InteractionLifetime;

    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Longest ticket text accepted: far above what an 8 KiB request makes, far below what would cost to open.</summary>
    private const int MaxLength = 32 * 1024;

    public long Now => time.GetUtcNow().ToUnixTimeSeconds();

    public string Protect(AuthorizeTicket ticket) => Protect(_authorize, JsonSerializer.SerializeToUtf8Bytes(ticket, TicketJsonContext.Default.AuthorizeTicket));

    public AuthorizeTicket? OpenAuthorize(string? text)
    {
        var ticket = Open(_authorize, text, TicketJsonContext.Default.AuthorizeTicket);
        return ticket is not null && !Expired(ticket.Created) ? ticket : null;
    }

    public string Protect(LogoutTicket ticket) => Protect(_logout, JsonSerializer.SerializeToUtf8Bytes(ticket, TicketJsonContext.Default.LogoutTicket));

    public LogoutTicket? OpenLogout(string? text)
    {
        var ticket = Open(_logout, text, TicketJsonContext.Default.LogoutTicket);
        return ticket is not null && !Expired(ticket.Created) ? ticket : null;
    }

    public string Protect(ErrorTicket ticket) => Protect(_error, JsonSerializer.SerializeToUtf8Bytes(ticket, TicketJsonContext.Default.ErrorTicket));

    public ErrorTicket? OpenError(string? text) => Open(_error, text, TicketJsonContext.Default.ErrorTicket);

    private bool Expired(long created) => Now - created > (long)_lifetime.TotalSeconds || created - Now > 60;

    private static string Protect(IDataProtector protector, byte[] json) => Base64UrlEncoder.Encode(protector.Protect(json));

    private static T? Open<T>(IDataProtector protector, string? text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        // Only base64url: the decoder skips what is not (white space, '%'), so without this check a ticket with
        // characters added would still open, and one ticket would have many spellings.
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength || text.AsSpan().IndexOfAnyExcept(Base64UrlAlphabet) >= 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(protector.Unprotect(Base64UrlEncoder.DecodeBytes(text)), type);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or JsonException or ArgumentException)
        {
            // Tampered, truncated, from another deployment, or its key was revoked: not a ticket of ours.
            return null;
        }
    }

    internal static string Hash(string value) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
