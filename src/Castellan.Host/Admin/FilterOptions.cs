using System.CommandLine;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>The options that choose grants or sessions: by client, subject (user) or session id, and for grants by type.</summary>
internal sealed class FilterOptions
{
    private readonly Option<string>? _client;
    private readonly Option<string> _subject;
    private readonly Option<string> _session;
    private readonly Option<string>? _type;

    /// <param name="noun">What the command lists or ends, in the descriptions: "grants", "sessions".</param>
    /// <param name="withClient">Sessions belong to a user, not to a client: only grants take <c>--client</c>.</param>
    public FilterOptions(string noun, bool withClient, bool withType)
    {
        _subject = new Option<string>("--subject") { Description = $"Only {noun} of this user (sub)." };
        _session = new Option<string>("--session") { Description = $"Only {noun} of this sign-in session (sid)." };
        if (withClient)
        {
            _client = new Option<string>("--client") { Description = $"Only {noun} issued to this client_id." };
        }

        if (withType)
        {
            _type = new Option<string>("--type") { Description = "Only this type: reference_token, authorization_code, refresh_token, user_consent." };
        }
    }

    public IReadOnlyList<Symbol> Options => new Symbol?[] { _client, _subject, _session, _type }.OfType<Symbol>().ToList();

    public PersistedGrantFilter Read(ParseResult result) => new()
    {
        ClientId = _client is null ? null : result.GetValue(_client),
        SubjectId = result.GetValue(_subject),
        SessionId = result.GetValue(_session),
        Type = _type is null ? null : result.GetValue(_type),
    };
}
