using System.Net;
using System.Security.Cryptography;
using System.Text;
using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Security;
using Castellan.Storage.EntityFramework;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// DPoP at an API (RFC 9449 §7): a client gets a DPoP-bound token from a real token service on loopback and calls
/// an API on Kestrel with <c>Authorization: DPoP</c> and a proof it signs with <see cref="Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler"/>.
/// Every way of getting it wrong is refused with the RFC's error, under the right challenge.
/// </summary>
public sealed class DPoPApiTests : IAsyncLifetime
{
    private readonly TempDirectory _root = new();
    private readonly DPoPClientKey _key = new(TimeProvider.System);
    private readonly DPoPClientKey _otherKey = new(TimeProvider.System);
    private TestApp _tokenService = null!;
    private HttpClient _tokenHttp = null!;

    public async Task InitializeAsync()
    {
        _tokenService = await TokenServer.StartAsync(_root);
        _tokenHttp = _tokenService.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _tokenHttp.Dispose();
        await _tokenService.DisposeAsync();
        _root.Dispose();
        _key.Dispose();
        _otherKey.Dispose();
    }

    /// <param name="publicOrigin">When set, the API sees every request as addressed to this origin, as behind a
    /// balancer whose forwarded headers the app trusts.</param>
    private Task<TestApp> StartApiAsync(Action<CastellanApiOptions>? configure = null, Action<IServiceCollection>? services = null,
        Uri? publicOrigin = null)
        => TestApi.StartAsync(_root.Path, _tokenService.BaseAddress, configure, services, map: app =>
        {
            if (publicOrigin is not null)
            {
                app.Use((context, next) =>
                {
                    context.Request.Scheme = publicOrigin.Scheme;
                    context.Request.Host = new HostString(publicOrigin.Authority);
                    return next(context);
                });
                app.UseAuthentication();
                app.UseAuthorization();
            }

            app.MapGet("/bound-only", () => "bound").RequireSenderConstrainedToken();
            app.MapGet("/other-scope", () => "ok").RequireScope("api1.other");
        });

    private async Task<string> DPoPTokenAsync(string clientId = TokenServer.ClientId, DPoPClientKey? key = null)
    {
        var response = await _tokenHttp.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
        {
            Address = "connect/token",
            ClientId = clientId,
            ClientSecret = TokenServer.ClientSecret,
            Scope = "api1",
            DPoPProofToken = (key ?? _key).Proof("POST", _tokenService.BaseAddress + "/connect/token"),
        });
        Assert.False(response.IsError, response.Error + " " + response.ErrorDescription);
        Assert.Equal(DPoPConstants.TokenType, response.TokenType);
        return response.AccessToken!;
    }

    private Task<string> BearerTokenAsync() => TestTokens.GetAccessTokenAsync(_tokenHttp, TokenServer.ClientId, TokenServer.ClientSecret, "api1");

    private static string Url(TestApp api, string path) => api.BaseAddress + "/" + path;

    /// <param name="proof">The DPoP header's value; null sends none.</param>
    private static async Task<HttpResponseMessage> CallAsync(TestApp api, string path, string scheme, string token, string? proof,
        HttpMethod? method = null, params string[] moreProofs)
    {
        using var http = api.CreateClient();
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", scheme + " " + token);
        if (proof is not null)
        {
            request.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, proof);
        }

        foreach (var extra in moreProofs)
        {
            request.Headers.TryAddWithoutValidation(DPoPConstants.HeaderName, extra);
        }

        return await http.SendAsync(request);
    }

    private Task<HttpResponseMessage> CallWithProofAsync(TestApp api, string token, string path = "data", DPoPClientKey? key = null)
        => CallAsync(api, path, "DPoP", token, (key ?? _key).Proof("GET", Url(api, path), token));

    /// <summary>The challenge for <paramref name="scheme"/>, asserting it names <paramref name="error"/>.</summary>
    private static string AssertChallenge(HttpResponseMessage response, string scheme, string error)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single(c => c.Scheme == scheme).Parameter ?? "";
        Assert.Contains($"error=\"{error}\"", challenge, StringComparison.Ordinal);
        Assert.Contains("error_description=\"", challenge, StringComparison.Ordinal);
        if (scheme == "DPoP")
        {
            Assert.Contains("algs=\"ES256", challenge, StringComparison.Ordinal);
        }

        return challenge;
    }

    [Fact]
    public async Task DPoP_token_with_a_proof_reaches_the_api()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();

        using var response = await CallWithProofAsync(api, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TokenServer.ClientId, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Every_call_needs_its_own_proof_even_when_the_token_is_cached()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using (var first = await CallWithProofAsync(api, token))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The validated-token cache now holds the token; the proof is still required, and checked, on every call.
        using var withoutProof = await CallAsync(api, "data", "DPoP", token, proof: null);
        AssertChallenge(withoutProof, "DPoP", DPoPConstants.InvalidDPoPProof);
        using var second = await CallWithProofAsync(api, token);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task No_proof_is_invalid_dpop_proof()
    {
        await using var api = await StartApiAsync();
        using var response = await CallAsync(api, "data", "DPoP", await DPoPTokenAsync(), proof: null);
        AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Two_proofs_are_invalid_dpop_proof()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var response = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data"), token), null,
            _key.Proof("GET", Url(api, "data"), token));
        AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Proof_from_another_key_is_invalid_token_for_the_key_binding()
    {
        await using var api = await StartApiAsync();
        using var response = await CallWithProofAsync(api, await DPoPTokenAsync(), key: _otherKey);
        // RFC 9449 §7.1: a good proof by the wrong key is a binding failure of the token.
        AssertChallenge(response, "DPoP", "invalid_token");
    }

    [Fact]
    public async Task Replayed_proof_is_refused()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        var proof = _key.Proof("GET", Url(api, "data"), token);
        using (var first = await CallAsync(api, "data", "DPoP", token, proof))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var replay = await CallAsync(api, "data", "DPoP", token, proof);
        AssertChallenge(replay, "DPoP", DPoPConstants.InvalidDPoPProof);
    }

    /// <summary>A proof node A accepts is refused by node B as used before; returns the proof.</summary>
    private async Task<string> AssertSpentForTheOtherNodeAsync(TestApp nodeA, TestApp nodeB, string token)
    {
        var proof = _key.Proof("GET", "https://api.example/data", token);
        using (var onA = await CallAsync(nodeA, "data", "DPoP", token, proof))
        {
            Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
        }

        using var onB = await CallAsync(nodeB, "data", "DPoP", token, proof);
        Assert.Contains("used before", AssertChallenge(onB, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
        return proof;
    }

    [Fact]
    public async Task Replay_to_a_second_node_sharing_a_distributed_cache_is_refused()
    {
        // Two API nodes on one IDistributedCache (a stand-in for Redis) behind one public URL: a proof one node
        // accepted is spent for the other.
        var shared = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        void Shared(IServiceCollection services)
        {
            services.AddSingleton<IDistributedCache>(shared);
            services.AddCastellanReplayCache().UseDistributedCache();
        }

        var origin = new Uri("https://api.example");
        await using var nodeA = await StartApiAsync(services: Shared, publicOrigin: origin);
        await using var nodeB = await StartApiAsync(services: Shared, publicOrigin: origin);
        var token = await DPoPTokenAsync();
        var proof = await AssertSpentForTheOtherNodeAsync(nodeA, nodeB, token);

        // Without the shared cache each node remembers only its own proofs: the same replay would pass. Shown so
        // the test above cannot pass for another reason (the URL, the token).
        await using var lone = await StartApiAsync(publicOrigin: origin);
        using var onLone = await CallAsync(lone, "data", "DPoP", token, proof);
        Assert.Equal(HttpStatusCode.OK, onLone.StatusCode);
    }

    [Fact]
    public async Task Replay_to_a_second_node_sharing_the_database_replay_cache_is_refused_even_at_the_same_moment()
    {
        // Two API nodes on one database's ReplayEntries: every proof is accepted once, by one node, also when the
        // same proof reaches both at once (the IDistributedCache above reads, then writes, and cannot promise that).
        using var folder = new TempDirectory();
        var connection = $"Data Source={Path.Combine(folder.Path, "replay.db")}";
        void Shared(IServiceCollection services) => services.AddCastellanReplayCache().UseDatabase(store =>
        {
            store.Provider = DatabaseProvider.Sqlite;
            store.ConnectionString = connection;
            store.MigrateOnStartup = true;
        });

        var origin = new Uri("https://api.example");
        await using var nodeA = await StartApiAsync(services: Shared, publicOrigin: origin);
        await using var nodeB = await StartApiAsync(services: Shared, publicOrigin: origin);
        var token = await DPoPTokenAsync();
        await AssertSpentForTheOtherNodeAsync(nodeA, nodeB, token);

        // 20 copies of one fresh proof, half to each node, at once: exactly one is accepted.
        var raced = _key.Proof("GET", "https://api.example/data", token);
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await CallAsync(i % 2 == 0 ? nodeA : nodeB, "data", "DPoP", token, raced);
            return response.StatusCode;
        }));
        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(19, answers.Count(s => s == HttpStatusCode.Unauthorized));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [Theory]
    [InlineData("GET", "other", "htu does not match")]
    [InlineData("POST", "data", "htm does not match")]
    public async Task Proof_for_another_uri_or_method_is_invalid_dpop_proof(string htm, string path, string description)
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var response = await CallAsync(api, "data", "DPoP", token, _key.Proof(htm, Url(api, path), token));
        Assert.Contains(description, AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proof_with_the_query_of_another_request_is_accepted()
    {
        // RFC 9449 §4.3 step 9: htu is compared without query and fragment.
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var response = await CallAsync(api, "data?page=2", "DPoP", token, _key.Proof("GET", Url(api, "data"), token));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(-5, "too old")]
    [InlineData(5, "in the future")]
    public async Task Stale_or_future_proof_is_invalid_dpop_proof(int minutes, string description)
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var response = await CallAsync(api, "data", "DPoP", token,
            _key.Proof("GET", Url(api, "data"), token, iat: DateTimeOffset.UtcNow.AddMinutes(minutes)));
        Assert.Contains(description, AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proof_without_ath_or_with_the_ath_of_another_token_is_invalid_dpop_proof()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var noAth = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data")));
        Assert.Contains("no ath", AssertChallenge(noAth, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);

        var other = await DPoPTokenAsync();
        using var wrongAth = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data"), other));
        Assert.Contains("ath does not match", AssertChallenge(wrongAth, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proof_signed_with_none_or_HS256_or_carrying_a_private_key_is_invalid_dpop_proof()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        var url = Url(api, "data");
        using var none = await CallAsync(api, "data", "DPoP", token, _key.UnsignedProof("none", _ => "", "GET", url, token));
        AssertChallenge(none, "DPoP", DPoPConstants.InvalidDPoPProof);

        var secret = RandomNumberGenerator.GetBytes(32);
        using var hs256 = await CallAsync(api, "data", "DPoP", token, _key.UnsignedProof("HS256",
            input => Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input))), "GET", url, token));
        AssertChallenge(hs256, "DPoP", DPoPConstants.InvalidDPoPProof);

        using var privateJwk = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", url, token, privateKeyInJwk: true));
        Assert.Contains("public key only", AssertChallenge(privateJwk, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DPoP_bound_token_sent_as_Bearer_is_refused()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync();
        using var response = await CallAsync(api, "data", "Bearer", token, proof: null);
        // RFC 9449 §7.2: never accepted as a bearer token, proof or not.
        AssertChallenge(response, "Bearer", "invalid_token");
        using var withProof = await CallAsync(api, "data", "Bearer", token, _key.Proof("GET", Url(api, "data"), token));
        AssertChallenge(withProof, "Bearer", "invalid_token");
    }

    [Fact]
    public async Task Bearer_token_sent_with_the_DPoP_scheme_is_refused()
    {
        await using var api = await StartApiAsync();
        var token = await BearerTokenAsync();
        using var response = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data"), token));
        Assert.Contains("not bound", AssertChallenge(response, "DPoP", "invalid_token"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bearer_tokens_still_work_beside_DPoP()
    {
        await using var api = await StartApiAsync();
        using var response = await CallAsync(api, "data", "Bearer", await BearerTokenAsync(), proof: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task No_token_gets_both_challenges_with_the_proof_algorithms()
    {
        await using var api = await StartApiAsync();
        using var http = api.CreateClient();
        using var response = await http.GetAsync("data");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenges = response.Headers.WwwAuthenticate.ToList();
        Assert.Equal(["Bearer", "DPoP"], challenges.Select(c => c.Scheme));
        Assert.Null(challenges[0].Parameter);
        Assert.Equal("algs=\"ES256 ES384 ES512 PS256 PS384 PS512 RS256\"", challenges[1].Parameter);
    }

    [Fact]
    public async Task Sender_constrained_policy_takes_a_DPoP_token_and_refuses_a_bearer_token()
    {
        await using var api = await StartApiAsync();
        using var bound = await CallWithProofAsync(api, await DPoPTokenAsync(), "bound-only");
        Assert.Equal(HttpStatusCode.OK, bound.StatusCode);
        using var bearer = await CallAsync(api, "bound-only", "Bearer", await BearerTokenAsync(), proof: null);
        Assert.Equal(HttpStatusCode.Forbidden, bearer.StatusCode);
    }

    [Fact]
    public async Task Missing_scope_with_a_DPoP_token_is_challenged_under_DPoP()
    {
        await using var api = await StartApiAsync();
        using var response = await CallWithProofAsync(api, await DPoPTokenAsync(), "other-scope");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("DPoP", challenge.Scheme);
        Assert.Contains("error=\"insufficient_scope\"", challenge.Parameter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reference_token_bound_by_DPoP_is_checked_through_introspection()
    {
        await using var api = await StartApiAsync();
        var token = await DPoPTokenAsync(TokenServer.ReferenceClientId);
        Assert.DoesNotContain('.', token);

        using var withProof = await CallWithProofAsync(api, token);
        Assert.Equal(HttpStatusCode.OK, withProof.StatusCode);
        using var asBearer = await CallAsync(api, "data", "Bearer", token, proof: null);
        AssertChallenge(asBearer, "Bearer", "invalid_token");
        using var otherKey = await CallWithProofAsync(api, token, key: _otherKey);
        AssertChallenge(otherKey, "DPoP", "invalid_token");
    }

    [Fact]
    public async Task Required_nonce_is_asked_for_then_accepted_and_renewed()
    {
        await using var api = await StartApiAsync(o => o.DPoP.RequireNonce = true);
        var token = await DPoPTokenAsync();
        using var first = await CallWithProofAsync(api, token);
        AssertChallenge(first, "DPoP", DPoPConstants.UseDPoPNonce);
        var nonce = Assert.Single(first.Headers.GetValues(DPoPConstants.NonceHeaderName));

        using var second = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data"), token, nonce: nonce));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(nonce, Assert.Single(second.Headers.GetValues(DPoPConstants.NonceHeaderName)));

        using var forged = await CallAsync(api, "data", "DPoP", token, _key.Proof("GET", Url(api, "data"), token, nonce: nonce + "x"));
        AssertChallenge(forged, "DPoP", DPoPConstants.UseDPoPNonce);
    }

    [Fact]
    public async Task With_DPoP_disabled_the_scheme_is_not_offered_and_bound_tokens_are_refused()
    {
        await using var api = await StartApiAsync(o => o.DPoP.Enabled = false);
        var token = await DPoPTokenAsync();
        using var asDPoP = await CallWithProofAsync(api, token);
        Assert.Equal(HttpStatusCode.Unauthorized, asDPoP.StatusCode);
        Assert.Equal("Bearer", Assert.Single(asDPoP.Headers.WwwAuthenticate).Scheme);
        using var asBearer = await CallAsync(api, "data", "Bearer", token, proof: null);
        AssertChallenge(asBearer, "Bearer", "invalid_token");
    }

    [Fact]
    public async Task Plain_JwtBearer_set_up_by_Castellan_refuses_a_DPoP_bound_token()
    {
        var builder = WebApplication.CreateBuilder(TestApp.Args(_root.Path));
        builder.Services.AddAuthentication().AddCastellanJwtBearer(_tokenService.BaseAddress, "api1");
        var app = builder.Build();
        app.MapGet("/data", () => "ok").RequireAuthorization();
        await using var api = await TestApp.StartAsync(app);

        using var bound = await CallAsync(api, "data", "Bearer", await DPoPTokenAsync(), proof: null);
        Assert.Equal(HttpStatusCode.Unauthorized, bound.StatusCode);
        using var bearer = await CallAsync(api, "data", "Bearer", await BearerTokenAsync(), proof: null);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.e30.AAAA")]
    public async Task Garbage_proof_is_invalid_dpop_proof_never_a_500(string proof)
    {
        await using var api = await StartApiAsync();
        using var response = await CallAsync(api, "data", "DPoP", await DPoPTokenAsync(), proof);
        AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof);
    }

    [Fact]
    public async Task Oversized_proof_is_invalid_dpop_proof()
    {
        await using var api = await StartApiAsync();
        using var response = await CallAsync(api, "data", "DPoP", await DPoPTokenAsync(), new string('a', 9000));
        Assert.Contains("too long", AssertChallenge(response, "DPoP", DPoPConstants.InvalidDPoPProof), StringComparison.Ordinal);
    }
}
