using Castellan.IntegrationTests.Infrastructure;
using Quickstart.Api;
using Quickstart.Client;
using Quickstart.TokenService;

namespace Castellan.IntegrationTests;

/// <summary>The classic trio on loopback: token service, protected API, console client using Duende.IdentityModel.</summary>
public sealed class QuickstartTests
{
    [Fact]
    public async Task Client_gets_a_token_and_the_api_returns_its_claims()
    {
        using var root = new TempDirectory();
        await using var tokenService = await TestApp.StartAsync(TokenServiceApp.Build(TestApp.Args(root.Path, 0,
            $"--Castellan:KeyManagement:KeyPath={Path.Combine(root.Path, "keys")}")));
        await using var api = await TestApp.StartAsync(ApiApp.Build(TestApp.Args(root.Path, 0, $"--Authority={tokenService.BaseAddress}")));

        var output = new StringWriter();
        var exitCode = await ClientApp.RunAsync(tokenService.BaseAddress, api.BaseAddress, output);

        var printed = output.ToString();
        Assert.True(exitCode == 0, printed);
        Assert.Contains("Access token received, expires in 3600 s.", printed, StringComparison.Ordinal);
        // The API echoes the token's claims: client, scope, audience and issuer as the token service wrote them.
        Assert.Contains("\"type\": \"client_id\",\n    \"value\": \"client\"", printed.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"type\": \"scope\",\n    \"value\": \"api1\"", printed.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"type\": \"aud\",\n    \"value\": \"api1\"", printed.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"\"type\": \"iss\",\n    \"value\": \"{tokenService.BaseAddress}\"", printed.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_reports_token_service_down()
    {
        using var root = new TempDirectory();
        await using var api = await TestApp.StartAsync(ApiApp.Build(TestApp.Args(root.Path, 0, "--Authority=http://127.0.0.1:1")));
        var output = new StringWriter();

        var exitCode = await ClientApp.RunAsync($"http://127.0.0.1:{TestApp.FreePort()}", api.BaseAddress, output);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("Discovery failed:", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_reports_api_down()
    {
        using var root = new TempDirectory();
        await using var tokenService = await TestApp.StartAsync(TokenServiceApp.Build(TestApp.Args(root.Path, 0,
            $"--Castellan:KeyManagement:KeyPath={Path.Combine(root.Path, "keys")}")));
        var output = new StringWriter();

        var exitCode = await ClientApp.RunAsync(tokenService.BaseAddress, $"http://127.0.0.1:{TestApp.FreePort()}", output);

        Assert.Equal(1, exitCode);
        Assert.Contains("API call failed:", output.ToString(), StringComparison.Ordinal);
    }
}
