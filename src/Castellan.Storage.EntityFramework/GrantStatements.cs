using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// The grant statements of the token endpoint's paths (read, store, consume, rotate) as plain ADO.NET commands, run
/// in <see cref="GrantQueue"/>'s batches: on PostgreSQL as one prepared <see cref="NpgsqlBatch"/>, on SQLite by
/// <see cref="SqliteGrantWriter"/>. On one-row statements EF's query pipeline (parameter extraction, the query cache
/// lookup, the shaper, the change tracker for an insert) cost as much CPU as the database's own work. The rest of the
/// store (revocations, cleanup, listing) stays LINQ.
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

    internal const string Find = $"""SELECT {Columns} FROM "PersistedGrants" WHERE "Key" = @k""";

    internal const string Insert = $"""
        INSERT INTO "PersistedGrants" ({Columns})
        VALUES (@key, @type, @client, @subject, @session, @family, @created, @expires, @consumed, @data)
        """;

    // Of all callers racing on one key (on any node) only one changes the row, and it reads the row in the same
    // statement.
    internal const string Consume = $"""
        UPDATE "PersistedGrants" SET "ConsumedTime" = @now
        WHERE "Key" = @k AND "ConsumedTime" IS NULL AND "Expiration" > @now
        RETURNING {Columns}
        """;

    // A stored grant overwrites the row with its key: almost every grant is new (its key is the hash of a fresh
    // random handle), but a remembered consent given again replaces the old one. The same text on both providers.
    private const string UpsertSet = """
        ON CONFLICT ("Key") DO UPDATE SET "Type" = excluded."Type", "ClientId" = excluded."ClientId",
            "SubjectId" = excluded."SubjectId", "SessionId" = excluded."SessionId", "FamilyId" = excluded."FamilyId",
            "CreationTime" = excluded."CreationTime", "Expiration" = excluded."Expiration",
            "ConsumedTime" = excluded."ConsumedTime", "Data" = excluded."Data"
        """;

    internal const string SqliteUpsert = Insert + "\n" + UpsertSet;

    // The replay cache's check (EntityFrameworkReplayCache): inserts the key, or takes over an entry that has expired
    // (one the cleanup has not removed yet). A live entry is left as it is and the statement returns no row. The
    // primary key makes concurrent inserts of one key, from any node, wait for the first and then see it: one wins.
    // An entry is live while now <= Expires, as in the in-memory cache. {0}, {1}, {2}: key, expiry, now.
    private const string RecordOnce = """
        INSERT INTO "ReplayEntries" ("Key", "Expires") VALUES ({0}, {1})
        ON CONFLICT ("Key") DO UPDATE SET "Expires" = excluded."Expires"
        WHERE "ReplayEntries"."Expires" < {2}
        RETURNING "Key"
        """;

    internal static readonly string SqliteRecordOnce = string.Format(CultureInfo.InvariantCulture, RecordOnce, "@k", "@expires", "@now");

    private static readonly string PostgreSqlRecordOnce = string.Format(CultureInfo.InvariantCulture, RecordOnce, "$1", "$2", "$3");

    // PostgreSQL's statements take positional parameters with explicit types: they are prepared once per connection
    // and sent in one batch, with no rewriting of names. Every one returns a result set, so the batch's reader moves
    // through them one per statement.
    private const string PostgreSqlValues = "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

    private const string PostgreSqlUpsert = $"""
        INSERT INTO "PersistedGrants" ({Columns}) VALUES {PostgreSqlValues}
        {UpsertSet}
        RETURNING "Key"
        """;

    private const string PostgreSqlFind = $"""SELECT {Columns} FROM "PersistedGrants" WHERE "Key" = $1""";

    private const string PostgreSqlConsume = $"""
        UPDATE "PersistedGrants" SET "ConsumedTime" = $2
        WHERE "Key" = $1 AND "ConsumedTime" IS NULL AND "Expiration" > $2
        RETURNING {Columns}
        """;

    // The consumption and the replacement in one statement: the insert runs only if the update consumed the row, and
    // a failed insert undoes the consumption.
    private const string PostgreSqlRotate = $"""
        WITH consumed AS ({PostgreSqlConsume}),
        replacement AS (
            INSERT INTO "PersistedGrants" ({Columns})
            SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
            WHERE EXISTS (SELECT 1 FROM consumed))
        SELECT {Columns} FROM consumed
        """;

    /// <summary>
    /// PostgreSQL: takes the transaction's advisory locks on the families and sessions named by <c>$1</c> (a text
    /// array, see <see cref="SetLocks"/>), in the order of their hashes. Every rotation batch and every revocation takes
    /// its locks through this statement, so all of them take locks in one order and none can wait on another in a
    /// cycle.
    /// </summary>
    public const string PostgreSqlLockSets = """
        SELECT pg_advisory_xact_lock(h) FROM (
            SELECT DISTINCT hashtextextended(n, 0) AS h FROM unnest($1::text[]) AS n ORDER BY h) AS sorted
        """;

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

    /// <summary>PostgreSQL, in the caller's transaction: <see cref="PostgreSqlLockSets"/> for <paramref name="names"/>.</summary>
    public static async Task LockSetsAsync(CastellanDbContext db, string[] names, CancellationToken cancellationToken)
    {
        await using var command = Command(db, PostgreSqlLockSets);
        command.Parameters.Add(TextArray(names));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// PostgreSQL: runs <paramref name="writes"/> (in that order) in one transaction, one round trip; see
    /// <see cref="GrantQueue"/>. SQLite's batches are <see cref="SqliteGrantWriter"/>'s.
    /// </summary>
    /// <returns>Per write, in order: the row it consumed, or null (stores, and consumptions another caller won).</returns>
    public static async Task<PersistedGrantRow?[]> WritePostgreSqlBatchAsync(CastellanDbContext db, IReadOnlyList<GrantOperation> writes, CancellationToken cancellationToken)
    {
        var results = new PersistedGrantRow?[writes.Count];
        await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PostgreSqlBatchAsync((NpgsqlConnection)db.Database.GetDbConnection(), writes, results, db.Database.GetCommandTimeout(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }

        return results;
    }

    private static async Task PostgreSqlBatchAsync(NpgsqlConnection connection, IReadOnlyList<GrantOperation> writes, PersistedGrantRow?[] results, int? timeout, CancellationToken cancellationToken)
    {
        // No explicit transaction: the statements of one batch, sent together up to one Sync, run in one implicit
        // transaction that commits at the Sync, and one failing rolls them all back. One round trip per batch.
        await using var batch = new NpgsqlBatch(connection);
        if (timeout is { } seconds)
        {
            batch.Timeout = seconds;
        }

        List<string>? locks = null;
        foreach (var write in writes)
        {
            if (write.Kind == GrantOperationKind.Rotate)
            {
                foreach (var name in SetLocks(write.Row!.FamilyId, write.Row.SessionId))
                {
                    (locks ??= []).Add(name);
                }
            }
        }

        if (locks is not null)
        {
            var lockSets = new NpgsqlBatchCommand(PostgreSqlLockSets);
            lockSets.Parameters.Add(TextArray([.. locks]));
            batch.BatchCommands.Add(lockSets);
        }

        foreach (var write in writes)
        {
            NpgsqlBatchCommand command;
            switch (write.Kind)
            {
                case GrantOperationKind.Find:
                    command = new NpgsqlBatchCommand(PostgreSqlFind);
                    command.Parameters.Add(Text(write.Key));
                    break;
                case GrantOperationKind.Store:
                    command = new NpgsqlBatchCommand(PostgreSqlUpsert);
                    AddRow(command.Parameters, write.Row!);
                    break;
                case GrantOperationKind.RecordOnce:
                    command = new NpgsqlBatchCommand(PostgreSqlRecordOnce);
                    command.Parameters.Add(Text(write.Key));
                    command.Parameters.Add(Time(write.Expires));
                    command.Parameters.Add(Time(write.Now));
                    break;
                default:
                    command = new NpgsqlBatchCommand(write.Kind == GrantOperationKind.Rotate ? PostgreSqlRotate : PostgreSqlConsume);
                    command.Parameters.Add(Text(write.Key));
                    command.Parameters.Add(Time(write.Now));
                    if (write.Kind == GrantOperationKind.Rotate)
                    {
                        AddRow(command.Parameters, write.Row!);
                    }

                    break;
            }

            batch.BatchCommands.Add(command);
        }

        // Prepared once per physical connection (Npgsql keeps them across the pool's reuse); later batches only bind.
        await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (locks is not null)
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < writes.Count; i++)
        {
            if (writes[i].Kind != GrantOperationKind.Store && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                results[i] = writes[i].Kind == GrantOperationKind.RecordOnce ? GrantOperation.Recorded : Row(reader);
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }

        // Read to the end: the implicit transaction's commit is reported after the last result, and a caller is
        // answered only once it has committed.
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
        {
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

    /// <summary>A command for <paramref name="sql"/> with the row's parameters (<c>@key</c> … <c>@data</c>), bound by <see cref="SetRow"/>.</summary>
    internal static void AddRowParameters(DbCommand command)
    {
        foreach (var name in (ReadOnlySpan<string>)["@key", "@type", "@client", "@subject", "@session", "@family", "@created", "@expires", "@consumed", "@data"])
        {
            Add(command, name, null);
        }
    }

    // In the order of AddRowParameters' (and of Columns).
    internal static void SetRow(DbCommand command, PersistedGrantRow row)
    {
        var parameters = command.Parameters;
        parameters[0].Value = row.Key;
        parameters[1].Value = row.Type;
        parameters[2].Value = row.ClientId;
        parameters[3].Value = (object?)row.SubjectId ?? DBNull.Value;
        parameters[4].Value = (object?)row.SessionId ?? DBNull.Value;
        parameters[5].Value = (object?)row.FamilyId ?? DBNull.Value;
        parameters[6].Value = row.CreationTime;
        parameters[7].Value = row.Expiration;
        parameters[8].Value = (object?)row.ConsumedTime ?? DBNull.Value;
        parameters[9].Value = row.Data;
    }

    // In the order of Columns, typed so a null binds as the column's type.
    private static void AddRow(NpgsqlParameterCollection parameters, PersistedGrantRow row)
    {
        parameters.Add(Text(row.Key));
        parameters.Add(Text(row.Type));
        parameters.Add(Text(row.ClientId));
        parameters.Add(Text(row.SubjectId));
        parameters.Add(Text(row.SessionId));
        parameters.Add(Text(row.FamilyId));
        parameters.Add(Time(row.CreationTime));
        parameters.Add(Time(row.Expiration));
        parameters.Add(Time(row.ConsumedTime));
        parameters.Add(Text(row.Data));
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter TextArray(string[] values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    private static NpgsqlParameter Time(DateTime? value) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)value ?? DBNull.Value };

    internal static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    // The column order of Columns.
    internal static PersistedGrantRow Row(DbDataReader reader) => new()
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
