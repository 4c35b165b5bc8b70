using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using WebApp.Logout;

namespace Castellan.IntegrationTests.Samples;

/// <summary>The web app's <c>POST /backchannel-logout</c> and OpenID Connect Back-Channel Logout 1.0 §2.6.</summary>
public sealed class WebAppBackChannelLogoutTests(WebAppServers servers) : IClassFixture<WebAppServers>
{
    [Fact]
    public async Task Valid_logout_token_is_accepted_and_its_session_is_logged_out()
    {
        var sid = NewId();
        var token = servers.Provider.CreateToken("logout+jwt", LogoutClaims(sid: sid, sub: "alice"));

        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sessions = servers.WebApp.Services.GetRequiredService<LoggedOutSessions>();
        Assert.True(sessions.IsLoggedOut(sid, subject: null, issuedAt: null));
        var notification = Assert.Single(sessions.Received, n => n.SessionId == sid);
        Assert.Equal(LogoutChannel.BackChannel, notification.Channel);
        Assert.Equal("alice", notification.Subject);
        Assert.Equal(servers.Provider.Issuer, notification.Issuer);
    }

    [Fact]
    public async Task Token_with_only_sub_logs_out_the_users_earlier_sessions()
    {
        var sub = NewId();
        var token = servers.Provider.CreateToken("logout+jwt", LogoutClaims(sid: null, sub: sub));

        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sessions = servers.WebApp.Services.GetRequiredService<LoggedOutSessions>();
        var now = servers.Time.GetUtcNow();
        Assert.True(sessions.IsLoggedOut(NewId(), sub, issuedAt: now.AddMinutes(-1)));
        Assert.False(sessions.IsLoggedOut(NewId(), sub, issuedAt: now.AddMinutes(1)));
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData(null)]
    public async Task Token_without_logout_typ_is_rejected(string? type)
    {
        var sid = NewId();
        var token = servers.Provider.CreateToken(type, LogoutClaims(sid: sid, sub: "alice"));

        await AssertRejectedAsync(token, sid);
    }

    [Fact]
    public async Task Token_for_another_audience_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["aud"] = "another-client";

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_from_another_issuer_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["iss"] = "http://127.0.0.1:1";

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_with_nonce_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["nonce"] = "n-0S6_WzA2Mj";

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_without_events_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims.Remove("events");

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_whose_events_lack_the_logout_event_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["events"] = Json("""{"http://schemas.openid.net/event/other": {}}""");

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_issued_long_ago_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["iat"] = servers.Time.GetUtcNow().AddMinutes(-30).ToUnixTimeSeconds();

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_issued_in_the_future_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims["iat"] = servers.Time.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds();

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_without_iat_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        claims.Remove("iat");

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Expired_token_is_rejected()
    {
        var sid = NewId();
        var claims = LogoutClaims(sid: sid, sub: "alice");
        // exp is checked by the token handler against the real clock, which the fake clock started from.
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds();

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", claims), sid);
    }

    [Fact]
    public async Task Token_without_sid_or_sub_is_rejected()
    {
        var claims = LogoutClaims(sid: null, sub: null);

        using var response = await PostAsync(servers.Provider.CreateToken("logout+jwt", claims));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Token_signed_with_another_key_is_rejected()
    {
        var sid = NewId();
        using var rsa = RSA.Create(2048);
        var otherKey = new RsaSecurityKey(rsa) { KeyId = "fake-op-key" };

        await AssertRejectedAsync(servers.Provider.CreateToken("logout+jwt", LogoutClaims(sid: sid, sub: "alice"), otherKey), sid);
    }

    [Fact]
    public async Task Replayed_token_is_rejected()
    {
        var token = servers.Provider.CreateToken("logout+jwt", LogoutClaims(sid: NewId(), sub: "alice"));
        using var first = await PostAsync(token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var second = await PostAsync(token);

        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIiwidHlwIjoibG9nb3V0K2p3dCJ9.eyJzaWQiOiJ4In0.")]
    public async Task Malformed_or_unsigned_token_is_rejected(string token)
    {
        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Request_that_is_not_a_form_is_rejected()
    {
        using var http = servers.WebApp.CreateClient();
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var response = await http.PostAsync("backchannel-logout", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task AssertRejectedAsync(string token, string sid)
    {
        using var response = await PostAsync(token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var sessions = servers.WebApp.Services.GetRequiredService<LoggedOutSessions>();
        Assert.False(sessions.IsLoggedOut(sid, subject: null, issuedAt: null));
        Assert.DoesNotContain(sessions.Received, n => n.SessionId == sid);
    }

    private async Task<HttpResponseMessage> PostAsync(string token)
    {
        using var http = servers.WebApp.CreateClient();
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = token });
        return await http.PostAsync("backchannel-logout", form);
    }

    private Dictionary<string, object> LogoutClaims(string? sid, string? sub)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = servers.Provider.Issuer,
            ["aud"] = WebAppServers.ClientId,
            ["iat"] = servers.Time.GetUtcNow().ToUnixTimeSeconds(),
            ["jti"] = NewId(),
            ["events"] = Json("""{"http://schemas.openid.net/event/backchannel-logout": {}}"""),
        };
        if (sid is not null)
        {
            claims["sid"] = sid;
        }

        if (sub is not null)
        {
            claims["sub"] = sub;
        }

        return claims;
    }

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string NewId() => Guid.NewGuid().ToString("N");
}
