using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.Hardening;

/// <summary>An empty secret authenticates nobody: it cannot be configured, and sending none never matches one.</summary>
public sealed class SecretTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t")]
    public void Blank_plain_text_secret_cannot_be_created(string value)
        => Assert.ThrowsAny<ArgumentException>(() => Secret.FromPlainText(value));

    [Fact]
    public async Task Configured_hash_of_the_empty_secret_stops_startup_with_a_named_error()
    {
        using var root = new TempDirectory();
        var ex = await Assert.ThrowsAsync<CastellanConfigurationException>(() => TokenServer.StartAsync(root, c => c.AddInMemoryClients(
        [
            new Client
            {
                ClientId = "empty",
                ClientSecrets = { new Secret(Secret.Hash("")) },
                AllowedGrantTypes = { GrantTypes.ClientCredentials },
                AllowedScopes = { "api1" },
            },
        ])));
        Assert.Contains(ex.Errors, e => e.Contains("Client 'empty'", StringComparison.Ordinal) && e.Contains("empty", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("client:")]
    [InlineData("client: ")]
    public async Task Basic_header_without_a_secret_is_invalid_client(string credentials)
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root);
        using var http = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        using var response = await http.SendAsync(request);
        await ProtocolAssert.ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Short_plain_text_secrets_get_a_startup_warning_that_names_the_client_but_not_the_secret()
    {
        using var root = new TempDirectory();
        var logs = new LogCollector();
        await using var server = await TokenServer.StartAsync(root, c =>
        {
            c.Services.AddSingleton<ILoggerProvider>(logs);
            c.AddInMemoryClients(
            [
                new Client
                {
                    ClientId = "long",
                    ClientSecrets = { Secret.FromPlainText(new string('x', Secret.RecommendedMinimumLength)) },
                    AllowedGrantTypes = { GrantTypes.ClientCredentials },
                    AllowedScopes = { "api1" },
                },
            ]);
        });

        var warnings = logs.Entries.Where(e => e.Event.Name == "ShortSecret").Select(e => e.Message).ToList();
        Assert.Contains(warnings, w => w.Contains("'client'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'api1'", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("'long'", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(TokenServer.ClientSecret + "'", StringComparison.Ordinal));
    }
}
