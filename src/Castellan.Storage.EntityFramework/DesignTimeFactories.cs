using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Castellan.Storage.EntityFramework;

// For `dotnet ef migrations add` only: the model does not depend on the connection, so any will do.

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteCastellanDbContext>
{
    public SqliteCastellanDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<SqliteCastellanDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlCastellanDbContext>
{
    public PostgreSqlCastellanDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<PostgreSqlCastellanDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
