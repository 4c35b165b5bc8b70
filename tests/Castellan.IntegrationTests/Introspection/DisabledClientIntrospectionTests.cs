using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Introspection;

/// <summary>
/// A token is active only while its client exists and is enabled: disabling a client (or removing it from the
/// store) turns its tokens inactive at introspection at once, both reference tokens and JWTs.
/// </summary>
public sealed class DisabledClientIntrospectionTests : TokenServerTest
{
    private const string JwtClientId = "switchable-jwt";
    private const string ReferenceClientId = "switchable-ref";

    private readonly Client _jwtClient = NewClient(JwtClientId, AccessTokenType.Jwt);
    private readonly Client _referenceClient = NewClient(ReferenceClientId, AccessTokenType.Reference);
    private ForgettingClientStore _store = null!;

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, castellan =>
        {
            // The in-memory store keeps the instances it was given, so flipping Enabled on them is a live change.
            castellan.AddInMemoryClients([_jwtClient, _referenceClient]);
            castellan.Services.AddSingleton<IClientStore>(services =>
                _store = new ForgettingClientStore(new InMemoryClientStore(services.GetRequiredService<InMemoryConfiguration>())));
        });

    private static Client NewClient(string id, AccessTokenType type) => new()
    {
        ClientId = id,
        ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { "api1" },
        AccessTokenType = type,
    };

    private Client ClientFor(string id) => id == JwtClientId ? _jwtClient : _referenceClient;

    private async Task<bool> IsActiveAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect");
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic("api1", TokenServer.Api1Secret));
        request.Content = new StringContent("token=" + Uri.EscapeDataString(token), Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var active = json.RootElement.GetProperty("active").GetBoolean();
        if (!active)
        {
            // RFC 7662 §2.2, and Castellan's rule: an inactive answer says nothing else, not even why.
            Assert.Equal("""{"active":false}""", body);
        }

        return active;
    }

    private Task<string> TokenAsync(string clientId)
        => TestTokens.GetAccessTokenAsync(Http, clientId, TokenServer.ClientSecret, "api1");

    [Theory]
    [InlineData(JwtClientId)]
    [InlineData(ReferenceClientId)]
    public async Task Tokens_of_a_disabled_client_are_inactive(string clientId)
    {
        var token = await TokenAsync(clientId);
        Assert.True(await IsActiveAsync(token));

        ClientFor(clientId).Enabled = false;
        Assert.False(await IsActiveAsync(token));

        // Nothing was revoked: enabling the client again brings its unexpired tokens back.
        ClientFor(clientId).Enabled = true;
        Assert.True(await IsActiveAsync(token));
    }

    [Theory]
    [InlineData(JwtClientId)]
    [InlineData(ReferenceClientId)]
    public async Task Tokens_of_a_client_the_store_no_longer_knows_are_inactive(string clientId)
    {
        var token = await TokenAsync(clientId);
        Assert.True(await IsActiveAsync(token));

        _store.Forget(clientId);
        Assert.False(await IsActiveAsync(token));
    }

    [Fact]
    public async Task Other_clients_tokens_stay_active()
    {
        var token = await TokenAsync(TokenServer.ReferenceClientId);
        _jwtClient.Enabled = false;
        _store.Forget(ReferenceClientId);
        Assert.True(await IsActiveAsync(token));
    }

    /// <summary>A client store that can be told to stop returning a client, as when one is deleted from a database.</summary>
    private sealed class ForgettingClientStore(IClientStore inner) : IClientStore
    {
        private readonly ConcurrentDictionary<string, bool> _forgotten = new(StringComparer.Ordinal);

        public void Forget(string clientId) => _forgotten[clientId] = true;

        public ValueTask<Client?> FindClientByIdAsync(string clientId, CancellationToken cancellationToken)
            => _forgotten.ContainsKey(clientId) ? ValueTask.FromResult<Client?>(null) : inner.FindClientByIdAsync(clientId, cancellationToken);
    }
}
