using System.Net;
using System.Net.Sockets;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>What came back for one case.</summary>
/// <param name="Responses">The complete answers, in order.</param>
/// <param name="Garbage">Octets that are not an HTTP/1.x answer, if the server sent any.</param>
/// <param name="Ending">How the connection ended: "closed", "reset", "answered" (all expected answers read) or "no answer".</param>
internal sealed record Exchange(IReadOnlyList<RawResponse> Responses, string? Garbage, string Ending, bool Nudged);

/// <summary>
/// Sends a case's octets over a fresh TCP connection (no HttpClient, which would refuse or repair most of them) and
/// reads what comes back until the expected answers are in, the server closes, or it stays silent.
/// </summary>
internal static class RawHttpExchange
{
    /// <summary>
    /// Silence after which the sending side is shut down, for a case the server is still waiting on (it cannot know
    /// the rest will never come). Not an assertion: a case that needs it is only counted.
    /// </summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for answers at most; a server that says nothing by then counts as having closed.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private const int MaxAnswerOctets = 4 * 1024 * 1024;

    public static async Task<Exchange> RunAsync(IPEndPoint server, FuzzCase fuzzCase, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellationToken);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(Patience);

        if (fuzzCase.Reset)
        {
            await socket.SendAsync(fuzzCase.Wire, SocketFlags.None, patience.Token);
            // Let the server start reading the body, then reset: linger 0 makes Close send RST.
            await Task.Delay(20, cancellationToken);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            return new Exchange([], null, "reset by the client", false);
        }

        var buffer = new MemoryStream();
        var receiving = ReceiveAsync(socket, buffer, fuzzCase, patience.Token);
        try
        {
            await socket.SendAsync(fuzzCase.Wire, SocketFlags.None, patience.Token);
            if (fuzzCase.HalfClose)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // The server closed while we were still sending (it answered early and will read no more): read what it said.
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        var nudged = false;
        if (!fuzzCase.HalfClose && await Task.WhenAny(receiving, Task.Delay(Quiet, cancellationToken)) != receiving)
        {
            nudged = true;
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
        }

        var ending = await receiving;
        var wire = WireText.FromBytes(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        var responses = HttpResponseReader.Read(wire, fuzzCase.IsHead, complete: ending != "answered", out var garbage);
        return new Exchange(responses, garbage, ending, nudged);
    }

    private static async Task<string> ReceiveAsync(Socket socket, MemoryStream received, FuzzCase fuzzCase, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (received.Length < MaxAnswerOctets)
            {
                var count = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (count == 0)
                {
                    return "closed";
                }

                received.Write(buffer, 0, count);
                var wire = WireText.FromBytes(received.GetBuffer().AsSpan(0, (int)received.Length));
                if (HttpResponseReader.Read(wire, fuzzCase.IsHead, complete: false, out _).Count >= fuzzCase.ExpectedResponses)
                {
                    return "answered";
                }
            }

            return "answered";
        }
        catch (SocketException)
        {
            return "reset";
        }
        catch (OperationCanceledException)
        {
            return "no answer";
        }
    }
}
