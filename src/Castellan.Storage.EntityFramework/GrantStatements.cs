using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// The grant statements of the token endpoint's paths (read, insert, consume, rotate), sent as ADO.NET commands on
/// the context's connection and transaction. On one-row statements EF's query pipeline (parameter extraction, the
/// query cache lookup, the shaper, the change tracker for an insert) cost as much CPU as the database's own work;
/// here each is one command and one reader. The rest of the store (revocations, cleanup, listing) stays LINQ.
/// </summary>
/// <remarks>
/// Columns and times are what the model maps: times are UTC <see cref="DateTime"/>s, bound as the providers bind
/// them for EF (<c>timestamptz</c> on PostgreSQL, ISO-8601 text on SQLite), and marked UTC when read.
/// </remarks>
internal static class GrantStatements
{
    private const string Columns = """
        "Key", "Type", "ClientId", "SubjectId", "SessionId", "FamilyId", "CreationTime", "Expiration", "ConsumedTime", "Data"
        """;

    private const string Find = $"""SELECT {Columns} FROM "PersistedGrants" WHERE "Key" = @k""";

    private const string Insert = $"""
        INSERT INTO "PersistedGrants" ({Columns})
        VALUES (@key, @type, @client, @subject, @session, @family, @created, @expires, @consumed, @data)
        """;

    // Of all callers racing on one key (on any node) only one changes the row, and it reads the row in the same
    // statement.
    private const string Consume = $"""
        UPDATE "PersistedGrants" SET "ConsumedTime" = @now
        WHERE "Key" = @k AND "ConsumedTime" IS NULL AND "Expiration" > @now
        RETURNING {Columns}
        """;

    // One statement for the consumption and the replacement: the insert runs only if the update consumed the row, and
    // a failed insert undoes the consumption. The casts type the parameters that may be null, which an INSERT ...
    // SELECT does not infer from the columns as VALUES does.
    private const string PostgreSqlRotate = $"""
        WITH consumed AS ({Consume}),
        replacement AS (
            INSERT INTO "PersistedGrants" ({Columns})
            SELECT @key, @type, @client, CAST(@subject AS text), CAST(@session AS text), CAST(@family AS text),
                @created, @expires, CAST(@consumed AS timestamp with time zone), @data
            WHERE EXISTS (SELECT 1 FROM consumed))
        SELECT {Columns} FROM consumed
        """;

    public static Task<PersistedGrantRow?> FindAsync(CastellanDbContext db, string key, CancellationToken cancellationToken)
        => ReadAsync(db, Find, command => Add(command, "@k", key), cancellationToken);

    public static async Task InsertAsync(CastellanDbContext db, PersistedGrantRow row, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(db, Insert);
            AddRow(command, row);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    /// <returns>The row as the update left it (consumed), or null when this caller did not consume it.</returns>
    public static Task<PersistedGrantRow?> ConsumeAsync(CastellanDbContext db, string key, DateTime now, CancellationToken cancellationToken)
        => ReadAsync(db, Consume, command =>
        {
            Add(command, "@k", key);
            Add(command, "@now", now);
        }, cancellationToken);

    /// <summary>
    /// The names of the PostgreSQL advisory locks a rotation and a revocation in a family or a session take, in the
    /// order they take them.
    /// </summary>
    public static IEnumerable<string> SetLocks(string? family, string? session)
    {
        if (family is not null)
        {
            yield return "castellan-family:" + family;
        }

        if (session is not null)
        {
            yield return "castellan-session:" + session;
        }
    }

    /// <summary>
    /// PostgreSQL only, in the caller's transaction: takes the replacement's <see cref="SetLocks"/>, then consumes
    /// <paramref name="key"/> and inserts <paramref name="replacement"/>, in one round trip.
    /// </summary>
    /// <returns>The consumed row, or null when this caller did not consume it (and nothing was inserted).</returns>
    public static async Task<PersistedGrantRow?> ConsumeAndInsertAsync(CastellanDbContext db, string key, DateTime now, PersistedGrantRow replacement, CancellationToken cancellationToken)
    {
        var locks = SetLocks(replacement.FamilyId, replacement.SessionId).ToArray();
        var sql = new System.Text.StringBuilder();
        for (var i = 0; i < locks.Length; i++)
        {
            sql.Append("SELECT pg_advisory_xact_lock(hashtextextended(@lock").Append(i).Append(", 0));\n");
        }

        sql.Append(PostgreSqlRotate);
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(db, sql.ToString());
            for (var i = 0; i < locks.Length; i++)
            {
                Add(command, "@lock" + i, locks[i]);
            }

            Add(command, "@k", key);
            Add(command, "@now", now);
            AddRow(command, replacement);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);

            // The locks' result sets come first, in order: the statements run one after the other.
            for (var i = 0; i < locks.Length; i++)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Row(reader) : null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private static async Task<PersistedGrantRow?> ReadAsync(CastellanDbContext db, string sql, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = Command(db, sql);
            bind(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Row(reader) : null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private static DbCommand Command(CastellanDbContext db, string sql)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        return command;
    }

    private static void AddRow(DbCommand command, PersistedGrantRow row)
    {
        Add(command, "@key", row.Key);
        Add(command, "@type", row.Type);
        Add(command, "@client", row.ClientId);
        Add(command, "@subject", row.SubjectId);
        Add(command, "@session", row.SessionId);
        Add(command, "@family", row.FamilyId);
        Add(command, "@created", row.CreationTime);
        Add(command, "@expires", row.Expiration);
        Add(command, "@consumed", row.ConsumedTime);
        Add(command, "@data", row.Data);
    }

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    // The column order of Columns.
    private static PersistedGrantRow Row(DbDataReader reader) => new()
    {
        Key = reader.GetString(0),
        Type = reader.GetString(1),
        ClientId = reader.GetString(2),
        SubjectId = reader.IsDBNull(3) ? null : reader.GetString(3),
        SessionId = reader.IsDBNull(4) ? null : reader.GetString(4),
        FamilyId = reader.IsDBNull(5) ? null : reader.GetString(5),
        CreationTime = Utc(reader.GetDateTime(6)),
        Expiration = Utc(reader.GetDateTime(7)),
        ConsumedTime = reader.IsDBNull(8) ? null : Utc(reader.GetDateTime(8)),
        Data = reader.GetString(9),
    };

    // SQLite gives times back unspecified; they were written as UTC.
    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
