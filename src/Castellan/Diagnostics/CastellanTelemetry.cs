using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Castellan.Diagnostics;

/// <summary>Metrics (meter <c>Castellan</c>) and traces (activity source <c>Castellan</c>).</summary>
internal static class CastellanTelemetry
{
    public const string Name = "Castellan";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> TokensIssued = Meter.CreateCounter<long>("castellan.token.issued", description: "Tokens issued by the token endpoint.");

    public static readonly Counter<long> TokenRequestsFailed = Meter.CreateCounter<long>("castellan.token.failed", description: "Token requests answered with an error.");

    public static readonly Counter<long> TokensIntrospected = Meter.CreateCounter<long>("castellan.introspection.answered", description: "Introspection requests answered, tagged active=true|false.");

    public static readonly Counter<long> IntrospectionRequestsFailed = Meter.CreateCounter<long>("castellan.introspection.failed", description: "Introspection requests answered with an error.");

    public static readonly Counter<long> TokensRevoked = Meter.CreateCounter<long>("castellan.revocation.revoked", description: "Tokens revoked.");

    public static readonly Counter<long> RevocationRequestsFailed = Meter.CreateCounter<long>("castellan.revocation.failed", description: "Revocation requests answered with an error.");

    public static readonly Counter<long> AuthorizationCodesIssued = Meter.CreateCounter<long>("castellan.authorize.codes_issued", description: "Authorization codes issued.");

    public static readonly Counter<long> AuthorizeRequestsFailed = Meter.CreateCounter<long>("castellan.authorize.failed", description: "Authorization requests answered with an error (to the client or on the error page).");

    public static readonly Counter<long> GrantReplays = Meter.CreateCounter<long>("castellan.grant.replayed", description: "Authorization codes or rotated refresh tokens presented again; each revokes its family.");

    public static readonly Counter<long> UserLogouts = Meter.CreateCounter<long>("castellan.session.logouts", description: "User sessions ended.");

    public static readonly Counter<long> ConfigurationReloads = Meter.CreateCounter<long>("castellan.configuration.reloads", description: "Checks of the configuration store that changed something or failed, tagged result=loaded|invalid|failed.");

    public static KeyValuePair<string, object?> ErrorTag(string error) => new("error", error);
}
