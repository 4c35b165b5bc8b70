using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Applies the settings SQLite keeps per connection rather than in the file (the write-ahead log is the file's, set
/// when migrating): <c>synchronous</c>, see <see cref="EntityFrameworkStoreOptions.SqliteFullSync"/>. Once per native
/// connection: Microsoft.Data.Sqlite pools them, and a setting made on one stays with it.
/// </summary>
internal sealed class SqliteConnectionSettings(bool fullSync) : DbConnectionInterceptor
{
    private readonly ConditionalWeakTable<object, object> _applied = new();
    private readonly string _pragma = Pragma(fullSync);

    /// <summary>The statement that applies the settings on a connection Castellan opens itself.</summary>
    public static string Pragma(bool fullSync) => fullSync ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        // A pragma is a call into the SQLite library in this process, with no I/O: there is nothing to wait for.
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection { Handle: { } handle } sqlite || _applied.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = sqlite.CreateCommand();
        command.CommandText = _pragma;
        command.ExecuteNonQuery();
        _applied.AddOrUpdate(handle, this);
    }
}
