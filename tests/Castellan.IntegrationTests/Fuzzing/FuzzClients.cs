using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Clients added to the standard <see cref="TokenServer"/> for fuzzing. Their secrets are long and distinctive so
/// that finding one in an answer means it was echoed (the standard clients' "secret" is too common a word to search for).
/// </summary>
internal static class FuzzClients
{
    public const string JwtClientId = "fuzz-client";
    public const string JwtClientSecret = "fz-jwt-7Rq2vX9mK4";
    public const string ReferenceClientId = "fuzz-ref-client";
    public const string ReferenceClientSecret = "fz-ref-4Lp8wN3kT6";

    public static void Register(ICastellanBuilder castellan) => castellan.AddInMemoryClients(
    [
        new Client
        {
            ClientId = JwtClientId,
            ClientSecrets = { Secret.FromPlainText(JwtClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1", "api2" },
        },
        new Client
        {
            ClientId = ReferenceClientId,
            ClientSecrets = { Secret.FromPlainText(ReferenceClientSecret) },
            AllowedGrantTypes = { GrantTypes.ClientCredentials },
            AllowedScopes = { "api1", "api2" },
            AccessTokenType = AccessTokenType.Reference,
        },
    ]);

    /// <summary>Every secret the server knows that a fuzz request may carry (all of them at least 8 characters).</summary>
    public static IReadOnlyList<string> Secrets { get; } =
        [JwtClientSecret, ReferenceClientSecret, TokenServer.Api1Secret, TokenServer.Api2Secret];

    /// <summary>Issues the tokens the introspection and revocation baselines carry.</summary>
    public static async Task<FuzzCredentials> IssueAsync(HttpClient http)
    {
        var jwt = await TokenAsync(http, JwtClientId, JwtClientSecret);
        var reference = await TokenAsync(http, ReferenceClientId, ReferenceClientSecret);
        return new FuzzCredentials(jwt, reference);
    }

    private static async Task<string> TokenAsync(HttpClient http, string clientId, string secret)
    {
        using var response = await TestTokens.RequestAsync(http, clientId, secret, "api1");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{clientId} could not get a token for the fuzz baselines: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}

/// <summary>Tokens issued before fuzzing: a JWT access token and a reference token handle, both for api1.</summary>
internal sealed record FuzzCredentials(string JwtAccessToken, string ReferenceToken)
{
    public IReadOnlyList<string> All => [.. FuzzClients.Secrets, JwtAccessToken, ReferenceToken];
}
