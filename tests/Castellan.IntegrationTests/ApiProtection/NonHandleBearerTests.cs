using System.Net;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.ApiProtection;

/// <summary>
/// A bearer value that is neither JWT-shaped nor a possible reference handle (43 characters of base64url) is
/// refused by the API itself: it costs no introspection round trip, so garbage cannot load the token service.
/// </summary>
public sealed class NonHandleBearerTests : TokenServerTest, IAsyncLifetime
{
    private readonly CountingHandler _backchannel = new();

    async Task IAsyncLifetime.DisposeAsync()
    {
        _backchannel.Dispose();
        await DisposeAsync();
    }

    public static TheoryData<string> NotHandles => new()
    {
        "x",
        "abc",
        "%%%",
        "a.b",
        "a.b.c.d",
        new string('A', 42),
        new string('A', 44),
        new string('A', 42) + "+",
        new string('A', 42) + "/",
        new string('A', 42) + "=",
        new string('A', 42) + "~",
        new string('A', 20) + "." + new string('A', 22),
        new string('A', 20) + "%20" + new string('A', 20),
        new string('A', 20) + " " + new string('A', 22),
        new string('A', 12_000),
    };

    [Theory]
    [MemberData(nameof(NotHandles))]
    public async Task Non_handle_bearer_value_is_refused_without_introspection(string value)
    {
        await using var api = await TestApi.StartAsync(Root.Path, Server.BaseAddress, o => o.BackchannelHandler = _backchannel);

        using var response = await TestApi.CallAsync(api, "data", value);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"The access token is not valid.\"",
            response.Headers.WwwAuthenticate.First().ToString());
        Assert.Equal(0, _backchannel.Introspections);
    }

    [Fact]
    public async Task Handle_shaped_values_are_still_introspected()
    {
        // The control for the theory above: the counter sees introspections when there are some.
        await using var api = await TestApi.StartAsync(Root.Path, Server.BaseAddress, o => o.BackchannelHandler = _backchannel);

        using (var unknown = await TestApi.CallAsync(api, "data", "AZaz09-_" + new string('q', 35)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        Assert.Equal(1, _backchannel.Introspections);
        var token = await TestTokens.GetAccessTokenAsync(Http, TokenServer.ReferenceClientId, TokenServer.ClientSecret, "api1");
        using (var known = await TestApi.CallAsync(api, "data", token))
        {
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        }

        Assert.Equal(2, _backchannel.Introspections);
    }
}
