using Microsoft.Data.Sqlite;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// SQLite's side of <see cref="GrantQueue"/>: one connection kept open for the grant writes, with its three
/// statements compiled once. Opening a pooled connection per batch threw away the connection's page cache after
/// every other writer and compiled each statement again; in a profile the SQL parser alone was a noticeable share of
/// a reference token's cost.
/// </summary>
/// <remarks>Used by one batch at a time (the queue has one SQLite writer task), under the process's writer gate.</remarks>
internal sealed class SqliteGrantWriter(EntityFrameworkStoreOptions options) : IDisposable
{
    private const int WriterCacheKiB = 32 * 1024;

    private SqliteConnection? _connection;
    private SqliteCommand? _upsert;
    private SqliteCommand? _consume;
    private SqliteCommand? _insert;

    /// <summary>Runs <paramref name="writes"/> in order in one transaction and commits it.</summary>
    /// <returns>Per write, in order: the row it consumed, or null.</returns>
    public PersistedGrantRow?[] Write(IReadOnlyList<GrantOperation> writes)
    {
        var results = new PersistedGrantRow?[writes.Count];
        try
        {
            var connection = Open();
            using var transaction = connection.BeginTransaction();
            for (var i = 0; i < writes.Count; i++)
            {
                var write = writes[i];
                if (write.Kind == GrantOperationKind.Find)
                {
                    throw new InvalidOperationException("SQLite's reads do not go through the grant queue.");
                }

                if (write.Kind == GrantOperationKind.Store)
                {
                    Execute(_upsert!, transaction, write.Row!);
                    continue;
                }

                _consume!.Transaction = transaction;
                _consume.Parameters[0].Value = write.Key;
                _consume.Parameters[1].Value = write.Now;
                using (var reader = _consume.ExecuteReader())
                {
                    results[i] = reader.Read() ? GrantStatements.Row(reader) : null;
                }

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
            _consume = connection.CreateCommand();
            _consume.CommandText = GrantStatements.Consume;
            _consume.CommandTimeout = timeout;
            GrantStatements.Add(_consume, "@k", null);
            GrantStatements.Add(_consume, "@now", null);
            _connection = connection;
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
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
        _connection?.Dispose();
        (_upsert, _consume, _insert, _connection) = (null, null, null, null);
    }

    public void Dispose() => Close();
}
