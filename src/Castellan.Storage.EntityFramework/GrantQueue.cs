using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Group commit for the grant statements of the token endpoint (read, store, consume, consume-and-replace) and the
/// replay cache's one-time values: those that arrive while a transaction is at work wait for it, then go to the database
/// together, in one transaction, and each caller is answered when that transaction has committed. A caller is never
/// told of a grant that was not stored.
/// </summary>
/// <remarks>
/// <para>
/// One write per transaction paid the whole fixed cost of a transaction for each grant: on SQLite the writer turn,
/// a connection and the commit's log frames; on PostgreSQL two round trips, the backend's wake-ups and the commit. A
/// reference token cost about five times its in-memory cost on both. Under load the writes queue up anyway (SQLite
/// has one writer); here they share the cost instead of waiting for each other. With no load a write goes alone, at
/// once.
/// </para>
/// <para>
/// Every decision stays one conditional statement inside the transaction, so batching changes nothing that another
/// node could observe: a consumption is still an <c>UPDATE … WHERE "ConsumedTime" IS NULL</c>, and two writes of one
/// key in one batch run in the order they arrived (the second finds the row consumed). The writes of a batch run in
/// key order, and on PostgreSQL the batch first takes every family and session lock it needs in one sorted statement
/// (as revocations do): transactions that take row and advisory locks in one order cannot deadlock each other.
/// </para>
/// <para>
/// A batch that fails is rolled back whole. When the database answered (an error of one write, not an outage), its
/// writes are retried one by one so a single bad write fails alone; when the database is unreachable every writer
/// gets the unavailable error at once, as it would have alone.
/// </para>
/// </remarks>
internal sealed class GrantQueue : IAsyncDisposable, IDisposable
{
    // Large enough to absorb any burst a node's thread pool produces between two commits, small enough that one
    // transaction stays short (a few hundred microseconds of database work).
    private const int MaxBatch = 64;

    private readonly CastellanDatabase _database;
    private readonly SqliteGrantWriter? _sqlite;
    private readonly Channel<GrantOperation> _queue = Channel.CreateUnbounded<GrantOperation>(new UnboundedChannelOptions
    {
        SingleWriter = false,
        SingleReader = false,
        AllowSynchronousContinuations = false,
    });

    private readonly Task[] _writers;

    public GrantQueue(CastellanDatabase database)
    {
        _database = database;
        _sqlite = database.Provider == DatabaseProvider.Sqlite ? new SqliteGrantWriter(database.Options) : null;

        // SQLite has one writer, so one batch at a time; on PostgreSQL a second batch is assembled and sent while the
        // first waits for its commit.
        var writers = database.Provider == DatabaseProvider.PostgreSql ? 2 : 1;
        _writers = new Task[writers];
        for (var i = 0; i < writers; i++)
        {
            _writers[i] = Task.Run(WriteBatchesAsync);
        }
    }

    /// <summary>
    /// Reads the grant under <paramref name="key"/> in the next batch. A refresh reads its grant before it rotates it;
    /// in the batch the read costs no round trip of its own on PostgreSQL, and on SQLite it reads from the writer's
    /// warm cache (see <see cref="SqliteGrantWriter"/>).
    /// </summary>
    public Task<PersistedGrantRow?> FindAsync(string key) => Enqueue(new GrantOperation(GrantOperationKind.Find, key, default, null));

    /// <summary>Inserts <paramref name="row"/>, or overwrites the row with its key (a remembered consent given again).</summary>
    public Task StoreAsync(PersistedGrantRow row) => Enqueue(new GrantOperation(GrantOperationKind.Store, row.Key, default, row));

    /// <summary>Consumes the grant under <paramref name="key"/> if it is unconsumed and unexpired at <paramref name="now"/>.</summary>
    /// <returns>The row as it was consumed, or null when this caller did not consume it.</returns>
    public Task<PersistedGrantRow?> ConsumeAsync(string key, DateTime now) => Enqueue(new GrantOperation(GrantOperationKind.Consume, key, now, null));

    /// <summary>Consumes <paramref name="key"/> as <see cref="ConsumeAsync"/> does and, only then, inserts <paramref name="replacement"/>.</summary>
    public Task<PersistedGrantRow?> ConsumeAndInsertAsync(string key, DateTime now, PersistedGrantRow replacement)
        => Enqueue(new GrantOperation(GrantOperationKind.Rotate, key, now, replacement));

    /// <summary>
    /// Records the replay key <paramref name="key"/> until <paramref name="expires"/> unless a live entry (one that
    /// expires at or after <paramref name="now"/>) has it: one conditional insert, so of callers racing on one key, on
    /// any node, one records it. DPoP proofs arrive at the token endpoint's rate, so they share its transactions.
    /// </summary>
    /// <returns>Whether this caller recorded it.</returns>
    public async Task<bool> RecordOnceAsync(string key, DateTime expires, DateTime now)
        => await Enqueue(new GrantOperation(GrantOperationKind.RecordOnce, key, now, null, expires)).ConfigureAwait(false) is not null;

    private Task<PersistedGrantRow?> Enqueue(GrantOperation write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(GrantQueue));
        }

        return write.Task;
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<GrantOperation>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task WriteAsync(List<GrantOperation> batch)
    {
        // Key order, stable: writes of one key keep the order they arrived in.
        if (batch.Count > 1)
        {
            batch.Sort(static (a, b) =>
            {
                var byKey = string.CompareOrdinal(a.Key, b.Key);
                return byKey != 0 ? byKey : a.Sequence.CompareTo(b.Sequence);
            });
        }

        try
        {
            var results = _sqlite is { } sqlite
                ? await _database.WriteOwnAsync(() => Task.FromResult(sqlite.Write(batch)), "GrantBatch", CancellationToken.None).ConfigureAwait(false)
                : await _database.WriteAsync(db => GrantStatements.WritePostgreSqlBatchAsync(db, batch, CancellationToken.None),
                    CancellationToken.None, operation: "GrantBatch").ConfigureAwait(false);
            StoreTelemetry.GrantBatch.Record(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].TrySetResult(results[i]);
            }
        }
        catch (Exception ex) when (batch.Count > 1 && DatabaseAnswered(ex))
        {
            foreach (var write in batch)
            {
                await WriteAsync([write]).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            foreach (var write in batch)
            {
                write.TrySetException(ex);
            }
        }
    }

    // The server (or the SQLite library) refused a statement, rather than failing to be reached: a write of the batch
    // may be at fault, or the batch lost a deadlock another transaction caused.
    private static bool DatabaseAnswered(Exception exception)
        => exception.GetBaseException() is PostgresException or SqliteException { SqliteErrorCode: 19 };

    /// <summary>Takes no more writes; those queued are still written.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).ConfigureAwait(false);
        _sqlite?.Dispose();
    }

    /// <summary>Takes no more writes; those queued are still written, without waiting for them here.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        if (_sqlite is { } sqlite)
        {
            _ = Task.WhenAll(_writers).ContinueWith(_ => sqlite.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }
}

internal enum GrantOperationKind
{
    /// <summary>A read, answered from the batch's transaction.</summary>
    Find,
    Store,
    Consume,
    Rotate,

    /// <summary>
    /// A one-time value recorded in <c>ReplayEntries</c> unless a live entry has it (<see cref="EntityFrameworkReplayCache"/>);
    /// answered with <see cref="GrantOperation.Recorded"/> when this caller recorded it.
    /// </summary>
    RecordOnce,
}

/// <summary>One write waiting in <see cref="GrantQueue"/>; its task completes when its transaction has committed.</summary>
internal sealed class GrantOperation(GrantOperationKind kind, string key, DateTime now, PersistedGrantRow? row, DateTime expires = default)
    : TaskCompletionSource<PersistedGrantRow?>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>The answer to a <see cref="GrantOperationKind.RecordOnce"/> that recorded its value (null: a live entry had it).</summary>
    public static readonly PersistedGrantRow Recorded = new();

    private static long s_sequence;

    public GrantOperationKind Kind { get; } = kind;

    /// <summary>The key the write decides on: the consumed grant's, or the stored grant's.</summary>
    public string Key { get; } = key;

    public DateTime Now { get; } = now;

    /// <summary>The row stored (<see cref="GrantOperationKind.Store"/>) or inserted as the replacement (<see cref="GrantOperationKind.Rotate"/>).</summary>
    public PersistedGrantRow? Row { get; } = row;

    /// <summary>Of a <see cref="GrantOperationKind.RecordOnce"/>: until when the value is remembered.</summary>
    public DateTime Expires { get; } = expires;

    /// <summary>Arrival order, to keep writes of one key in it.</summary>
    public long Sequence { get; } = Interlocked.Increment(ref s_sequence);
}
