using System.Net;
using Microsoft.Extensions.DependencyInjection;
using WebApp.Logout;

namespace Castellan.IntegrationTests.Samples;

/// <summary>The web app's <c>GET /frontchannel-logout</c> (OpenID Connect Front-Channel Logout 1.0 §2).</summary>
public sealed class WebAppFrontChannelLogoutTests(WebAppServers servers) : IClassFixture<WebAppServers>
{
    [Fact]
    public async Task Only_the_authority_may_frame_the_endpoint_and_it_is_not_cached()
    {
        using var http = servers.WebApp.CreateClient();

        using var response = await http.GetAsync($"frontchannel-logout?iss={Uri.EscapeDataString(servers.Provider.Issuer)}&sid=s1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"frame-ancestors {servers.Provider.Issuer}", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Request_without_a_session_is_recorded_and_ends_nothing()
    {
        var sid = Guid.NewGuid().ToString("N");
        using var http = servers.WebApp.CreateClient();

        using var response = await http.GetAsync($"frontchannel-logout?iss={Uri.EscapeDataString(servers.Provider.Issuer)}&sid={sid}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sessions = servers.WebApp.Services.GetRequiredService<LoggedOutSessions>();
        var notification = Assert.Single(sessions.Received, n => n.SessionId == sid);
        Assert.Equal(LogoutChannel.FrontChannel, notification.Channel);
        Assert.False(notification.EndedSession);
        // Without the session's cookie the request proves nothing about the session: it stays valid.
        Assert.False(sessions.IsLoggedOut(sid, subject: null, issuedAt: null));
    }
}
