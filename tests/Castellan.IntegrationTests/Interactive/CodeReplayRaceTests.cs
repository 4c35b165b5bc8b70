using Castellan.IntegrationTests.Infrastructure;
using Castellan.Stores;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Interactive;

/// <summary>
/// RFC 6749 §4.1.2: a replayed code revokes what its first redemption issued, also when the replay arrives while
/// that redemption is still storing its tokens (the revocation ran before they were stored).
/// </summary>
public sealed class CodeReplayRaceTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly HookedStore _store = new(new InMemoryPersistedGrantStore(TimeProvider.System));
    private TestApp _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await InteractiveServer.StartAsync(_root, configure: c => c.Services.AddSingleton<IPersistedGrantStore>(_store));
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task Replay_during_redemption_still_revokes_the_refresh_token_it_issued()
    {
        using var browser = new BrowserSession(_server);
        var (code, request) = await AuthorizationCodeFlowTests.SignInAndGetCodeAsync(browser);
        TokenResponse? replay = null;
        _store.BeforeRefreshTokenStored = async () => replay = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request);

        var first = await AuthorizationCodeFlowTests.RedeemAsync(_http, code, request);
        Assert.NotNull(replay);
        Assert.Equal("invalid_grant", replay.Error);
        Assert.False(first.IsError, first.Error);

        // The first redemption's refresh token was stored after the replay's revocation, and is revoked all the same.
        var refresh = await _http.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = "connect/token",
            ClientId = InteractiveServer.WebClientId,
            ClientSecret = InteractiveServer.WebSecret,
            RefreshToken = first.RefreshToken!,
        });
        Assert.Equal("invalid_grant", refresh.Error);
    }

    /// <summary>The in-memory store, with a hook that runs once just before a refresh token is stored.</summary>
    private sealed class HookedStore(IPersistedGrantStore inner) : IPersistedGrantStore
    {
        public Func<Task>? BeforeRefreshTokenStored { get; set; }

        public async Task StoreAsync(PersistedGrant grant, CancellationToken cancellationToken)
        {
            if (grant.Type == PersistedGrantTypes.RefreshToken && BeforeRefreshTokenStored is { } hook)
            {
                BeforeRefreshTokenStored = null;
                await hook();
            }

            await inner.StoreAsync(grant, cancellationToken);
        }

        public Task<PersistedGrant?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken) => inner.RemoveAsync(key, cancellationToken);

        public Task<PersistedGrant?> TryConsumeAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) => inner.TryConsumeAsync(key, now, cancellationToken);

        public Task<PersistedGrant?> TryConsumeAndReplaceAsync(string key, PersistedGrant replacement, DateTimeOffset now, CancellationToken cancellationToken)
            => inner.TryConsumeAndReplaceAsync(key, replacement, now, cancellationToken);

        public Task<int> RemoveAllAsync(PersistedGrantFilter filter, CancellationToken cancellationToken) => inner.RemoveAllAsync(filter, cancellationToken);

        public Task<int> RemoveExpiredAsync(DateTimeOffset now, int batchSize, CancellationToken cancellationToken) => inner.RemoveExpiredAsync(now, batchSize, cancellationToken);
    }
}
