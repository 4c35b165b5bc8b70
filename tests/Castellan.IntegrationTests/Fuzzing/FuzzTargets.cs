using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// The fuzz table: for every endpoint <c>MapCastellan</c> maps (by display name), the parameters it reads and a valid
/// baseline request to mutate. The fuzz test fails for a mapped endpoint that is missing here, so a new endpoint
/// is fuzzed from the day it is mapped: add a line with its display name and at least one baseline that succeeds.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>
    /// Redirect targets an answer may name in <c>Location</c>: the redirect URIs registered for the fuzz server's
    /// clients. None is registered today (no endpoint redirects), so any Location header is a finding.
    /// </summary>
    public static IReadOnlyList<string> RegisteredRedirectUris { get; } = [];

    public static FuzzTarget? Find(string displayName, FuzzCredentials credentials) => displayName switch
    {
        "Castellan discovery" => Get(displayName),
        "Castellan JWKS" => Get(displayName),
        "Castellan token endpoint" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("client_secret_basic", "POST", Basic(FuzzClients.JwtClientId, FuzzClients.JwtClientSecret),
            [
                new("grant_type", "client_credentials", Required: true, Exact: true),
                new("scope", "api1"),
            ]),
            new FuzzBaseline("client_secret_post", "POST", null,
            [
                new("grant_type", "client_credentials", Required: true, Exact: true),
                new("client_id", FuzzClients.ReferenceClientId, Required: true, Exact: true),
                new("client_secret", FuzzClients.ReferenceClientSecret, Required: true, Exact: true, Secret: true),
                new("scope", "api2"),
            ]),
        ]),
        "Castellan introspection endpoint" => new FuzzTarget(displayName,
        [
            new FuzzBaseline("api resource, JWT", "POST", Basic("api1", TokenServer.Api1Secret),
            [
                new("token", credentials.JwtAccessToken, Required: true, Secret: true),
                new("token_type_hint", "access_token"),
            ]),
            new FuzzBaseline("client, reference token", "POST", null,
            [
                new("token", credentials.ReferenceToken, Required: true, Secret: true),
                new("client_id", FuzzClients.ReferenceClientId, Required: true, Exact: true),
                new("client_secret", FuzzClients.ReferenceClientSecret, Required: true, Exact: true, Secret: true),
            ]),
        ]),
        "Castellan revocation endpoint" => new FuzzTarget(displayName,
        [
            // Revoking the handle once is fine: an unknown token still gets 200 (RFC 7009 §2.2).
            new FuzzBaseline("reference token", "POST", Basic(FuzzClients.ReferenceClientId, FuzzClients.ReferenceClientSecret),
            [
                new("token", credentials.ReferenceToken, Required: true, Secret: true),
                new("token_type_hint", "access_token"),
            ]),
        ]),
        _ => null,
    };

    private static FuzzTarget Get(string displayName) => new(displayName, [new FuzzBaseline("GET", "GET", null, [])]);

    private static string Basic(string id, string secret) => TestTokens.Basic(id, secret);
}
