using System.Collections.Concurrent;
using Castellan.Endpoints.EndSession;
using Castellan.Storage.EntityFramework;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Castellan.IntegrationTests.Storage;

/// <summary>
/// The back-channel logout queue in PostgreSQL: a delivery the accepting node could not make is made by another
/// node after it is gone, and nodes running together deliver each notification once.
/// </summary>
[Collection(PostgresCluster.Collection)]
public sealed class BackChannelLogoutQueueTests(PostgresCluster cluster) : IAsyncLifetime
{
    private readonly ConcurrentBag<string> _received = [];
    private WebApplication? _receiver;
    private volatile bool _failing;
    private string _uri = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/backchannel", async (HttpContext context) =>
        {
            if (_failing)
            {
                return Results.StatusCode(503);
            }

            _received.Add((await context.Request.ReadFormAsync())["logout_token"].ToString());
            return Results.Ok();
        });
        await _receiver.StartAsync();
        _uri = _receiver.Urls.Single() + "/backchannel";
    }

    public async Task DisposeAsync() => await _receiver!.DisposeAsync();

    private static Task<StoreFactory> NodeAsync(string connectionString) => StoreFactory.OnAsync(DatabaseProvider.PostgreSql, connectionString,
        services => services.Configure<CastellanOptions>(o => o.Session.BackChannelLogoutTimeout = TimeSpan.FromSeconds(2)));

    private BackChannelLogoutNotification Notification(string sid) => new("https://login.test", "web", _uri, "alice-id", sid);

    [Fact]
    public async Task A_delivery_the_first_node_could_not_make_is_made_by_another_after_it_is_gone()
    {
        var connectionString = await cluster.CreateDatabaseAsync("bcl");
        _failing = true;
        await using (var first = await NodeAsync(connectionString))
        {
            var sender = first.Get<BackChannelLogoutSender>();
            await sender.StartAsync(default);
            await sender.EnqueueAsync([Notification("sid-1")], default);
            await EventuallyAsync(async () =>
            {
                await using var db = first.Database.CreateContext();
                return await db.BackChannelLogoutDeliveries.AnyAsync(d => d.Attempts >= 1);
            });
            await sender.StopAsync(default);
        }

        _failing = false;
        await using var second = await NodeAsync(connectionString);
        var other = second.Get<BackChannelLogoutSender>();
        await other.StartAsync(default);
        try
        {
            await EventuallyAsync(() => Task.FromResult(!_received.IsEmpty));
            var token = new JsonWebToken(Assert.Single(_received));
            Assert.Equal("logout+jwt", token.Typ);
            Assert.Equal("sid-1", token.GetClaim("sid").Value);
            await using var db = second.Database.CreateContext();
            await EventuallyAsync(async () => !await db.BackChannelLogoutDeliveries.AnyAsync());
        }
        finally
        {
            await other.StopAsync(default);
        }
    }

    [Fact]
    public async Task Nodes_running_together_deliver_each_notification_once()
    {
        var connectionString = await cluster.CreateDatabaseAsync("bcl");
        await using var a = await NodeAsync(connectionString);
        await using var b = await NodeAsync(connectionString);
        var senders = new[] { a.Get<BackChannelLogoutSender>(), b.Get<BackChannelLogoutSender>() };
        foreach (var sender in senders)
        {
            await sender.StartAsync(default);
        }

        try
        {
            var sids = Enumerable.Range(0, 40).Select(i => $"sid-{i}").ToArray();
            await senders[0].EnqueueAsync(sids.Take(20).Select(Notification).ToArray(), default);
            await senders[1].EnqueueAsync(sids.Skip(20).Select(Notification).ToArray(), default);
            await EventuallyAsync(() => Task.FromResult(_received.Count >= sids.Length));
            await Task.Delay(500);

            var delivered = _received.Select(t => new JsonWebToken(t).GetClaim("sid").Value).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(sids.Order(StringComparer.Ordinal), delivered);
        }
        finally
        {
            foreach (var sender in senders)
            {
                await sender.StopAsync(default);
            }
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the condition was not met within 15 seconds");
    }
}
