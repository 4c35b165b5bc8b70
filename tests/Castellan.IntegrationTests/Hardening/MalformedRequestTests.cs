using System.Net;
using System.Net.Sockets;
using System.Text;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Castellan.IntegrationTests.Hardening;

/// <summary>
/// Whatever goes wrong while a request is read (bad chunking, a truncated body, a caller that goes away) is the
/// caller's doing: a 400 <c>invalid_request</c> or a quiet end, never a 500, and nothing logged at Warning or above.
/// </summary>
public sealed class MalformedRequestTests : TokenServerTest
{
    private readonly LogCollector _logs = new();

    protected override async Task<TestApp> StartServerAsync(TempDirectory root)
    {
        var server = await TokenServer.StartAsync(root, c => c.Services.AddSingleton<ILoggerProvider>(_logs));
        // Startup's own warnings (the test secrets are short) are not what these tests are about.
        _logs.Entries.Clear();
        return server;
    }

    private static string Basic => TestTokens.Basic(TokenServer.ClientId, TokenServer.ClientSecret);

    /// <summary>Sends raw bytes and returns what came back before the server closed or went quiet.</summary>
    private async Task<string> SendRawAsync(string head, byte[] body, bool closeAfterSending)
    {
        var uri = new Uri(Server.BaseAddress);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        await socket.SendAsync(body);
        if (closeAfterSending)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (!closeAfterSending && Encoding.ASCII.GetString(received.ToArray()).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    private string TokenHead(string framing)
        => $"POST /connect/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {Basic}\r\n" +
           $"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n";

    [Theory]
    [InlineData("ffffffffffffffffffffffff\r\ngrant_type=client_credentials\r\n0\r\n\r\n")]
    [InlineData("7fffffffffffffff\r\ngrant_type\r\n0\r\n\r\n")]
    [InlineData("zz\r\ngrant_type=client_credentials\r\n0\r\n\r\n")]
    [InlineData("5\r\ngrant_type=client_credentials\r\n0\r\n\r\n")]
    [InlineData("1e;ext=\"x\r\ngrant_type=client_credentials\r\n0\r\n\r\n")]
    [InlineData("-1\r\nx\r\n0\r\n\r\n")]
    public async Task Bad_chunking_is_a_400_not_a_500(string chunked)
    {
        var response = await SendRawAsync(TokenHead("Transfer-Encoding: chunked\r\n"), Encoding.ASCII.GetBytes(chunked), closeAfterSending: false);
        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Empty(_logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task Truncated_body_ends_quietly()
    {
        var response = await SendRawAsync(TokenHead("Content-Length: 500\r\n"), Encoding.ASCII.GetBytes("grant_type=client_credentials"), closeAfterSending: true);
        Assert.DoesNotContain(" 500 ", response, StringComparison.Ordinal);
        await WaitForServerToSettleAsync();
        Assert.Empty(_logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task Truncated_chunked_body_ends_quietly()
    {
        var response = await SendRawAsync(TokenHead("Transfer-Encoding: chunked\r\n"), Encoding.ASCII.GetBytes("40\r\ngrant_type=client"), closeAfterSending: true);
        Assert.DoesNotContain(" 500 ", response, StringComparison.Ordinal);
        await WaitForServerToSettleAsync();
        Assert.Empty(_logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task Caller_resetting_the_connection_mid_body_ends_quietly()
    {
        var uri = new Uri(Server.BaseAddress);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, uri.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes(TokenHead("Content-Length: 4000\r\n") + "grant_type=client_cre"));
            await Task.Delay(100);
            // Linger 0: close sends a TCP reset, as a crashed client or a dropped connection does.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        await WaitForServerToSettleAsync();
        Assert.True(!_logs.AtOrAbove(LogLevel.Warning).Any(), string.Join("\n", _logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Category} {e.Event} {e.Message} {e.Exception}")));
    }

    [Theory]
    [InlineData("connect/introspect")]
    [InlineData("connect/revocation")]
    public async Task Bad_chunking_at_the_other_post_endpoints_is_a_400(string path)
    {
        var head = $"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {Basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
        var response = await SendRawAsync(head, Encoding.ASCII.GetBytes("ffffffffffffffffffffff\r\ntoken=x\r\n0\r\n\r\n"), closeAfterSending: false);
        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Empty(_logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task Server_still_issues_tokens_after_malformed_requests()
    {
        await SendRawAsync(TokenHead("Transfer-Encoding: chunked\r\n"), Encoding.ASCII.GetBytes("fffffffffffffffffffffff\r\n"), closeAfterSending: true);
        await SendRawAsync(TokenHead("Content-Length: 100\r\n"), Encoding.ASCII.GetBytes("grant"), closeAfterSending: true);
        Assert.False(string.IsNullOrEmpty(await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret)));
    }

    /// <summary>A request the server is still reading when the socket closes is logged (if at all) a moment later.</summary>
    private async Task WaitForServerToSettleAsync()
        => await TestTokens.GetAccessTokenAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret);
}

/// <summary>Discovery and the JWKS when a store fails: 503 with Retry-After, never a bare 500.</summary>
public sealed class MetadataOutageTests : TokenServerTest
{
    private ToggledResourceStore? _resources;

    protected override Task<TestApp> StartServerAsync(TempDirectory root)
        => TokenServer.StartAsync(root, c => c.Services.Decorate<IResourceStore>(inner => _resources = new ToggledResourceStore(inner)));

    [Fact]
    public async Task Resource_store_failure_answers_discovery_with_503_and_retry_after_then_recovers()
    {
        _resources!.Down = true;
        using (var response = await Http.GetAsync(".well-known/openid-configuration"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.DoesNotContain("resource store is down", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        _resources.Down = false;
        using var recovered = await Http.GetAsync(".well-known/openid-configuration");
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Resource_store_failure_at_the_token_endpoint_is_a_server_error_without_details()
    {
        _resources!.Down = true;
        using var response = await TestTokens.RequestAsync(Http, TokenServer.ClientId, TokenServer.ClientSecret);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is 500 or 503, body);
        Assert.DoesNotContain("resource store is down", body, StringComparison.Ordinal);
    }

    private sealed class ToggledResourceStore(IResourceStore inner) : IResourceStore
    {
        public volatile bool Down;

        public ValueTask<Castellan.Stores.Resources> GetAllResourcesAsync(CancellationToken cancellationToken)
            => Down ? throw new IOException("resource store is down") : inner.GetAllResourcesAsync(cancellationToken);
    }
}

internal static class ServiceCollectionDecorateExtensions
{
    /// <summary>Wraps the registered <typeparamref name="T"/> (a singleton) in a decorator.</summary>
    public static void Decorate<T>(this IServiceCollection services, Func<T, T> decorate) where T : class
    {
        var descriptor = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(descriptor);
        services.AddSingleton(sp => decorate(descriptor.ImplementationInstance as T
            ?? (T)(descriptor.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!))));
    }
}
