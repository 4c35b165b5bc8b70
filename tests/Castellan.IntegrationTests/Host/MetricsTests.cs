using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>The counters of meter <c>Castellan</c> that operations.md documents move when the endpoints answer.</summary>
[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Token_introspection_and_revocation_counters_count_answers_and_errors()
    {
        using var root = new TempDirectory();
        await using var server = await TokenServer.StartAsync(root);

        // The meter is process-wide: this class runs alone (see the collection below), so the counts are exact.
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Castellan")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            totals.AddOrUpdate(key, value, (_, old) => old + value);
        });
        listener.Start();

        using var http = server.CreateClient();
        var token = await TestTokens.GetAccessTokenAsync(http, TokenServer.ReferenceClientId, TokenServer.ClientSecret);
        using (var bad = await http.PostAsync("connect/token", Form(("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x"))))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, bad.StatusCode);
        }

        using (var active = await SendAsync(http, "connect/introspect", "api1", TokenServer.Api1Secret, ("token", token)))
        using (var inactive = await SendAsync(http, "connect/introspect", "api1", TokenServer.Api1Secret, ("token", "unknown-token")))
        using (var wrongSecret = await SendAsync(http, "connect/introspect", "api1", "wrong", ("token", token)))
        using (var revoked = await SendAsync(http, "connect/revocation", TokenServer.ReferenceClientId, TokenServer.ClientSecret, ("token", token)))
        using (var missing = await SendAsync(http, "connect/revocation", TokenServer.ReferenceClientId, TokenServer.ClientSecret))
        {
            Assert.True(active.IsSuccessStatusCode && inactive.IsSuccessStatusCode && revoked.IsSuccessStatusCode);
            Assert.False(wrongSecret.IsSuccessStatusCode || missing.IsSuccessStatusCode);
        }

        Assert.Equal(1, totals.GetValueOrDefault("castellan.token.issued|grant_type=client_credentials"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.token.failed|error=invalid_client"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.introspection.answered|active=True"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.introspection.answered|active=False"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.introspection.failed|error=invalid_client"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.revocation.revoked"));
        Assert.Equal(1, totals.GetValueOrDefault("castellan.revocation.failed|error=invalid_request"));
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] parameters)
        => new(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string user, string password, params (string Name, string Value)[] parameters)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(parameters) };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(TestTokens.Basic(user, password));
        return http.SendAsync(request);
    }
}

/// <summary>Runs <see cref="MetricsTests"/> with no other test in parallel.</summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsTestsCollection;
