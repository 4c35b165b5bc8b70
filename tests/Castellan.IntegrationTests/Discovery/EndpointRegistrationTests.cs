using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Castellan.IntegrationTests.Discovery;

/// <summary>
/// One list of endpoints drives mapping, path validation and discovery: a disabled endpoint is neither mapped nor
/// advertised, and two endpoints cannot share a path.
/// </summary>
public sealed class EndpointRegistrationTests
{
    [Fact]
    public async Task Disabled_endpoints_are_not_mapped_and_not_in_discovery()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root, options: o =>
        {
            o.Endpoints.EnableIntrospectionEndpoint = false;
            o.Endpoints.EnableTokenRevocationEndpoint = false;
        });
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        var names = discovery.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("token_endpoint", names);
        Assert.DoesNotContain(names, n => n.StartsWith("introspection_", StringComparison.Ordinal) || n.StartsWith("revocation_", StringComparison.Ordinal));

        using var introspect = await http.PostAsync("connect/introspect", new FormUrlEncodedContent([new("token", "x")]));
        Assert.Equal(HttpStatusCode.NotFound, introspect.StatusCode);
        using var revoke = await http.PostAsync("connect/revocation", new FormUrlEncodedContent([new("token", "x")]));
        Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, TokenServer.ClientId, TokenServer.ClientSecret)));
    }

    [Fact]
    public async Task Moved_endpoint_is_served_and_advertised_at_its_new_path()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root, options: o => o.Endpoints.Token = "/oauth2/token");
        using var http = server.CreateClient();
        using var discovery = JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        Assert.Equal(server.BaseAddress + "/oauth2/token", discovery.RootElement.GetProperty("token_endpoint").GetString());
        using var old = await http.PostAsync("connect/token", new FormUrlEncodedContent([new("grant_type", "client_credentials")]));
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Fact]
    public async Task Two_endpoints_on_one_path_are_an_options_error()
    {
        using var root = new TempDirectory();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TokenServer.StartAsync(root, options: o => o.Endpoints.Revocation = "/Connect/Token/"));
        Assert.Contains(ex.Failures, f => f.Contains("Endpoints.Revocation uses the path '/Connect/Token/' of Endpoints.Token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disabled_endpoint_may_keep_a_path_another_endpoint_uses()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root, options: o =>
        {
            o.Endpoints.EnableTokenRevocationEndpoint = false;
            o.Endpoints.Revocation = o.Endpoints.Token;
        });
        using var http = server.CreateClient();
        Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(http, TokenServer.ClientId, TokenServer.ClientSecret)));
    }
}
