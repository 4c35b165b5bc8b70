using System.Net;
using System.Text.Json;
using Castellan.Endpoints.Token;
using Castellan.Endpoints.Token.Grants;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Castellan.IntegrationTests.TokenEndpoint;

/// <summary>
/// Grants register themselves: a grant added to the services is accepted in a client's AllowedGrantTypes, listed
/// in discovery, dispatched to by the token endpoint, and decides itself which of its parameters may repeat.
/// </summary>
public sealed class ExtensionGrantTests : TokenServerTest
{
    private const string EchoGrant = "urn:castellan:test:echo";

    protected override Task<TestApp> StartServerAsync(TempDirectory root) => TokenServer.StartAsync(root, c =>
    {
        c.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenGrantValidator, EchoGrantValidator>());
        c.AddInMemoryClients(
        [
            new Client
            {
                ClientId = "echo",
                ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                AllowedGrantTypes = { EchoGrant, GrantTypes.ClientCredentials },
                AllowedScopes = { "api1", "api2" },
            },
        ]);
    });

    private async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", TestTokens.Basic("echo", TokenServer.ClientSecret));
        return await Http.SendAsync(request);
    }

    [Fact]
    public async Task Registered_grant_issues_tokens_and_is_listed_in_discovery()
    {
        using var response = await PostAsync($"grant_type={Uri.EscapeDataString(EchoGrant)}&scope=api1");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("api1", json.RootElement.GetProperty("scope").GetString());

        using var discovery = JsonDocument.Parse(await Http.GetStringAsync(".well-known/openid-configuration"));
        var grants = discovery.RootElement.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()).ToList();
        Assert.Equal([GrantTypes.ClientCredentials, GrantTypes.AuthorizationCode, GrantTypes.RefreshToken, GrantTypes.Password, EchoGrant], grants);
    }

    [Fact]
    public async Task Each_grant_decides_which_parameters_may_repeat()
    {
        // client_credentials takes several RFC 8707 resources (these names are not URIs, so it refuses them as
        // targets, not as repetitions); this grant takes none more than once.
        using (var credentials = await PostAsync("grant_type=client_credentials&resource=api1&resource=api2"))
        {
            await ProtocolAssert.ErrorAsync(credentials, HttpStatusCode.BadRequest, "invalid_target");
        }

        using var echo = await PostAsync($"grant_type={Uri.EscapeDataString(EchoGrant)}&scope=api1&resource=api1&resource=api2");
        await ProtocolAssert.ErrorAsync(echo, HttpStatusCode.BadRequest, "invalid_request");
        using var error = JsonDocument.Parse(await echo.Content.ReadAsStringAsync());
        Assert.Equal("The parameter 'resource' was sent more than once.", error.RootElement.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Unregistered_grant_type_in_a_clients_configuration_is_a_startup_error_naming_the_registered_ones()
    {
        using var root = new TempDirectory();
        var ex = await Assert.ThrowsAsync<CastellanConfigurationException>(() => TokenServer.StartAsync(root, c => c.AddInMemoryClients(
        [
            new Client
            {
                ClientId = "other",
                ClientSecrets = { Secret.FromPlainText(TokenServer.ClientSecret) },
                AllowedGrantTypes = { EchoGrant },
                AllowedScopes = { "api1" },
            },
        ])));
        Assert.Contains(ex.Errors, e => e.Contains($"grant type '{EchoGrant}' is unknown; supported: client_credentials, authorization_code, refresh_token, password", StringComparison.Ordinal));
    }

    private sealed class EchoGrantValidator(IOptions<CastellanOptions> options) : ITokenGrantValidator
    {
        public string GrantType => EchoGrant;

        public IReadOnlySet<string> RepeatableParameters { get; } = new HashSet<string>(StringComparer.Ordinal);

        public ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
        {
            var granted = ScopeValidator.Validate(context.Parameter(OAuthParameters.Scope), context.ResourceIndicators(), context.Client.Model,
                context.Resources, context.Issuer, options.Value.InputLengthRestrictions.Scope, allowIdentityScopes: false);
            Outcome<ValidatedTokenRequest> outcome = granted.IsError ? granted.Error! : new EchoRequest(context.Client, context.Issuer, granted.Value!);
            return ValueTask.FromResult(outcome);
        }
    }

    private sealed record EchoRequest(Castellan.Clients.ValidatedClient Client, string Issuer, GrantedResources Resources)
        : ValidatedTokenRequest(Client, Issuer, Resources)
    {
        public override string GrantType => EchoGrant;
    }
}
