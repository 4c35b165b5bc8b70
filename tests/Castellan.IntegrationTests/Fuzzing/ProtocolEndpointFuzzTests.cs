using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Issue 8, item 15: seeded hostile requests against every Castellan endpoint of a real Kestrel host, over raw
/// sockets. Run longer or replay one case with the environment variables of <see cref="FuzzSettings"/>; docs/fuzzing.md
/// explains the rules and how a new endpoint registers.
/// </summary>
public sealed class ProtocolEndpointFuzzTests(ITestOutputHelper output) : TokenServerTest
{
    /// <summary>Cases in flight at once: the answers come from one server, and the machine may have two cores.</summary>
    private const int Parallelism = 4;

    private readonly LogCollector _logs = new();

    // The interaction test pages too: the baselines sign in at the login page for a session cookie.
    // And an API of Castellan.ApiProtection's scheme (FuzzApi), so hostile DPoP headers reach the API side as well.
    protected override Task<TestApp> StartServerAsync(TempDirectory root)
    {
        var port = TestApp.FreePort();
        return TokenServer.StartAsync(root, configure: c =>
        {
            FuzzClients.Register(c);
            FuzzApi.Register(c, $"http://127.0.0.1:{port}");
            c.Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(_logs);
        }, port: port, map: app =>
        {
            Interactive.TestPages.Map(app);
            FuzzApi.Map(app);
        });
    }

    [Fact]
    public async Task Hostile_requests_get_no_5xx_no_echoed_secret_no_foreign_redirect_and_leave_the_server_up()
    {
        var settings = FuzzSettings.FromEnvironment();
        var credentials = await FuzzClients.IssueAsync(Http, Server.BaseAddress);
        credentials = credentials with { ApiNonce = await FuzzApi.NonceAsync(Http, Server.BaseAddress, credentials.UserDPoPAccessToken) };
        var endpoints = FuzzEndpoints.Resolve(Server.Services, credentials);
        var server = IPEndPoint.Parse(new Uri(Server.BaseAddress).Authority);
        var authority = new Uri(Server.BaseAddress).Authority;
        output.WriteLine($"Fuzzing seed {settings.Seed}, {(settings.OnlyCase is { } only ? $"case {only} only" : $"{settings.Cases} cases")}, " +
                         $"endpoints: {string.Join(", ", endpoints.Select(e => e.Path))}");

        await BaselinesSucceedAsync(endpoints, server, authority, credentials);

        var generator = new FuzzCaseGenerator(settings.Seed, endpoints, authority, credentials);
        var report = new FuzzReport(settings);
        var clock = Stopwatch.StartNew();
        foreach (var batch in settings.CaseNumbers.Chunk(FuzzSettings.BatchSize))
        {
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (number, cancellationToken) =>
            {
                var fuzzCase = generator.Create(number);
                var exchange = await RawHttpExchange.RunAsync(server, fuzzCase, cancellationToken);
                var violations = FuzzOracle.Check(fuzzCase, exchange);
                report.Add(fuzzCase, exchange, violations);
                if (settings.OnlyCase is not null)
                {
                    output.WriteLine(FuzzReport.Describe(fuzzCase, exchange, violations));
                }
            });

            if (await AliveAsync() is { } dead)
            {
                report.AddDeadServer(generator.Create(batch[^1]), $"after cases {batch[0]}..{batch[^1]}: {dead}");
                break;
            }
        }

        output.WriteLine(report.Summary(endpoints.Count, clock.Elapsed));
        Assert.False(report.HasViolations, report.FailureMessage());

        // Hostile input is the caller's doing: it may be logged (Information at most), never as a server error.
        var errors = _logs.AtOrAbove(Microsoft.Extensions.Logging.LogLevel.Error).Distinct().Take(10).ToList();
        Assert.True(errors.Count == 0, $"seed {settings.Seed}: the server logged errors while fuzzed:\n{string.Join("\n", errors)}");
    }

    /// <summary>Each baseline of the table, unbroken, must succeed: otherwise its mutations prove nothing.</summary>
    private static async Task BaselinesSucceedAsync(IReadOnlyList<FuzzEndpoint> endpoints, IPEndPoint server, string authority, FuzzCredentials credentials)
    {
        foreach (var endpoint in endpoints)
        {
            foreach (var baseline in endpoint.Target.Baselines)
            {
                var draft = RequestDraft.For(endpoint, baseline, authority, credentials);
                var fuzzCase = new FuzzCase
                {
                    Number = -1,
                    Endpoint = endpoint,
                    Baseline = baseline,
                    Description = $"[{baseline.Name}] baseline",
                    Wire = WireText.ToBytes(draft.ToWire()),
                    Secrets = draft.Secrets,
                };
                var exchange = await RawHttpExchange.RunAsync(server, fuzzCase, CancellationToken.None);
                Assert.True(exchange.Responses.Count == 1 && baseline.IsGranted(exchange.Responses[0]) && FuzzOracle.Check(fuzzCase, exchange).Count == 0,
                    $"The baseline '{baseline.Name}' of {endpoint.DisplayName} in FuzzTargets.cs must succeed, but got: " +
                    FuzzReport.Describe(fuzzCase, exchange, []));
            }
        }
    }

    /// <summary>Null while the server still answers well-formed requests: a token for client_credentials, and discovery.</summary>
    private async Task<string?> AliveAsync()
    {
        try
        {
            using var token = await TestTokens.RequestAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret, "api1");
            var body = await token.Content.ReadAsStringAsync();
            if (token.StatusCode != HttpStatusCode.OK)
            {
                return $"a client_credentials request got {(int)token.StatusCode}: {body}";
            }

            using (var json = JsonDocument.Parse(body))
            {
                if (json.RootElement.GetProperty("access_token").GetString() is not { Length: > 0 })
                {
                    return $"a client_credentials request got no access_token: {body}";
                }
            }

            using var discovery = await Http.GetAsync(".well-known/openid-configuration");
            return discovery.StatusCode == HttpStatusCode.OK ? null : $"discovery got {(int)discovery.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }
}
