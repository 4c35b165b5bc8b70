using Microsoft.Data.Sqlite;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// SQLite's side of <see cref="GrantQueue"/>: one connection kept open for the token endpoint's grant statements,
/// each compiled once, with a page cache that stays warm. Opening a pooled connection per batch compiled each
/// statement again and started from a cold cache: SQLite empties a connection's cache whenever another connection
/// has written, so under load every read began by reading the index back from the file.
/// </summary>
/// <remarks>
/// The grant reads run here too, inside the batch's transaction: a refresh reads its grant and then rotates it, and
/// both cost a few microseconds on this connection against the cache rebuilt per read on any other. This process's
/// grant reads therefore take turns with its writes; the other readers (sessions, the admin commands, other
/// processes) are not affected. Used by one batch at a time (the queue has one SQLite task), under the process's
/// writer gate.
/// </remarks>
internal sealed class SqliteGrantWriter(EntityFrameworkStoreOptions options) : IDisposable
{
    private const int WriterCacheKiB = 32 * 1024;

    private SqliteConnection? _connection;
    private SqliteCommand? _upsert;
    private SqliteCommand? _consume;
    private SqliteCommand? _insert;
    private SqliteCommand? _find;
    private SqliteCommand? _recordOnce;

    /// <summary>Runs <paramref name="writes"/> in order in one transaction and commits it.</summary>
    /// <returns>Per write, in order: the row it consumed, or null.</returns>
    public PersistedGrantRow?[] Write(IReadOnlyList<GrantOperation> writes)
    {
        var results = new PersistedGrantRow?[writes.Count];
        try
        {
            var connection = Open();
            // A batch of reads only takes no write lock, so it holds up no other process's writer.
            using var transaction = connection.BeginTransaction(deferred: writes.All(w => w.Kind == GrantOperationKind.Find));
            for (var i = 0; i < writes.Count; i++)
            {
                var write = writes[i];
                if (write.Kind == GrantOperationKind.Find)
                {
                    _find!.Transaction = transaction;
                    _find.Parameters[0].Value = write.Key;
                    results[i] = ReadRow(_find);
                    continue;
                }

                if (write.Kind == GrantOperationKind.Store)
                {
                    Execute(_upsert!, transaction, write.Row!);
                    continue;
                }

                if (write.Kind == GrantOperationKind.RecordOnce)
                {
                    _recordOnce!.Transaction = transaction;
                    _recordOnce.Parameters[0].Value = write.Key;
                    _recordOnce.Parameters[1].Value = write.Expires;
                    _recordOnce.Parameters[2].Value = write.Now;
                    using (var reader = _recordOnce.ExecuteReader())
                    {
                        results[i] = reader.Read() ? GrantOperation.Recorded : null;
                    }

                    continue;
                }

                _consume!.Transaction = transaction;
                _consume.Parameters[0].Value = write.Key;
                _consume.Parameters[1].Value = write.Now;
                results[i] = ReadRow(_consume);

                if (write.Kind == GrantOperationKind.Rotate && results[i] is not null)
                {
                    Execute(_insert!, transaction, write.Row!);
                }
            }

            transaction.Commit();
            return results;
        }
        catch
        {
            // Whatever went wrong, the next batch starts from a fresh connection.
            Close();
            throw;
        }
    }

    private static PersistedGrantRow? ReadRow(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? GrantStatements.Row(reader) : null;
    }

    private static void Execute(SqliteCommand command, SqliteTransaction transaction, PersistedGrantRow row)
    {
        command.Transaction = transaction;
        GrantStatements.SetRow(command, row);
        command.ExecuteNonQuery();
    }

    private SqliteConnection Open()
    {
        if (_connection is not null)
        {
            return _connection;
        }

        var connection = new SqliteConnection(options.ConnectionString);
        connection.Open();
        try
        {
            using (var pragma = connection.CreateCommand())
            {
                // A larger page cache than SQLite's 2 MB default for this one connection: every grant written lands
                // in random pages of the key's index (and a rotation in its family's and session's), which the
                // default cache could not keep, so each write first read them back from the file.
                pragma.CommandText = SqliteConnectionSettings.Pragma(options.SqliteFullSync) + " PRAGMA cache_size=-" + WriterCacheKiB + ";";
                pragma.ExecuteNonQuery();
            }

            var timeout = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds);
            _upsert = RowCommand(connection, GrantStatements.SqliteUpsert, timeout);
            _insert = RowCommand(connection, GrantStatements.Insert, timeout);
            _consume = KeyCommand(connection, GrantStatements.Consume, timeout);
            GrantStatements.Add(_consume, "@now", null);
            _find = KeyCommand(connection, GrantStatements.Find, timeout);
            _recordOnce = KeyCommand(connection, GrantStatements.SqliteRecordOnce, timeout);
            GrantStatements.Add(_recordOnce, "@expires", null);
            GrantStatements.Add(_recordOnce, "@now", null);
            _connection = connection;
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static SqliteCommand KeyCommand(SqliteConnection connection, string sql, int timeout)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = timeout;
        GrantStatements.Add(command, "@k", null);
        return command;
    }

    private static SqliteCommand RowCommand(SqliteConnection connection, string sql, int timeout)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = timeout;
        GrantStatements.AddRowParameters(command);
        return command;
    }

    private void Close()
    {
        _upsert?.Dispose();
        _consume?.Dispose();
        _insert?.Dispose();
        _find?.Dispose();
        _recordOnce?.Dispose();
        _connection?.Dispose();
        (_upsert, _consume, _insert, _find, _recordOnce, _connection) = (null, null, null, null, null, null);
    }

    public void Dispose() => Close();
}
