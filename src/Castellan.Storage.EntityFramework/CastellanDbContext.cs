using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Castellan.Storage.EntityFramework;

/// <summary>
/// Castellan's tables: configuration (clients, scopes, resources), operational state (grants), signing keys, Data
/// Protection keys, leases and the replay cache's one-time values. One model for both providers; each provider has its own subclass so that each
/// carries its own migrations (<see cref="SqliteCastellanDbContext"/>, <see cref="PostgreSqlCastellanDbContext"/>).
/// </summary>
public abstract class CastellanDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public const string ClientsTable = "Clients";
    public const string ApiScopesTable = "ApiScopes";
    public const string ApiResourcesTable = "ApiResources";
    public const string IdentityResourcesTable = "IdentityResources";

    public DbSet<PersistedGrantRow> PersistedGrants => Set<PersistedGrantRow>();

    public DbSet<SigningKeyRow> SigningKeys => Set<SigningKeyRow>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ConfigurationStateRow> ConfigurationState => Set<ConfigurationStateRow>();

    public DbSet<LeaseRow> Leases => Set<LeaseRow>();

    public DbSet<ServerSideSessionRow> ServerSideSessions => Set<ServerSideSessionRow>();

    public DbSet<BackChannelLogoutRow> BackChannelLogoutDeliveries => Set<BackChannelLogoutRow>();

    public DbSet<ReplayEntryRow> ReplayEntries => Set<ReplayEntryRow>();

    public DbSet<ConfigurationRow> Clients => Set<ConfigurationRow>(ClientsTable);

    public DbSet<ConfigurationRow> ApiScopes => Set<ConfigurationRow>(ApiScopesTable);

    public DbSet<ConfigurationRow> ApiResources => Set<ConfigurationRow>(ApiResourcesTable);

    public DbSet<ConfigurationRow> IdentityResources => Set<ConfigurationRow>(IdentityResourcesTable);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);

        // Every time is UTC. SQLite gives DateTime back as Unspecified, and Npgsql refuses to write anything but
        // UTC to timestamptz: the converter marks what is read as UTC on both.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<PersistedGrantRow>(grant =>
        {
            grant.ToTable("PersistedGrants");
            grant.HasKey(g => g.Key);
            grant.Property(g => g.Key).HasMaxLength(200);
            grant.Property(g => g.Type).HasMaxLength(50).IsRequired();
            grant.Property(g => g.ClientId).HasMaxLength(200).IsRequired();
            grant.Property(g => g.SubjectId).HasMaxLength(200);
            grant.Property(g => g.SessionId).HasMaxLength(100);
            grant.Property(g => g.FamilyId).HasMaxLength(100);
            grant.Property(g => g.Data).IsRequired();

            // The revocations (by family, subject, session, client) and the cleanup each find their rows by index.
            grant.HasIndex(g => g.FamilyId);
            grant.HasIndex(g => new { g.SubjectId, g.ClientId, g.Type });
            grant.HasIndex(g => g.SessionId);
            grant.HasIndex(g => g.ClientId);
            grant.HasIndex(g => g.Expiration);
        });

        modelBuilder.Entity<SigningKeyRow>(key =>
        {
            key.ToTable("SigningKeys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).HasMaxLength(100);
            key.Property(k => k.Algorithm).HasMaxLength(20).IsRequired();
            key.Property(k => k.Data).IsRequired();
        });

        modelBuilder.Entity<DataProtectionKey>().ToTable("DataProtectionKeys");

        modelBuilder.Entity<ConfigurationStateRow>(state =>
        {
            state.ToTable("ConfigurationState");
            state.HasKey(s => s.Id);
            state.Property(s => s.Id).ValueGeneratedNever();

            // The counter starts at 0 in a migrated database; every write to the configuration increments it.
            state.HasData(new ConfigurationStateRow { Id = 1, Version = 0 });
        });

        modelBuilder.Entity<ServerSideSessionRow>(session =>
        {
            session.ToTable("ServerSideSessions");
            session.HasKey(s => s.Key);
            session.Property(s => s.Key).HasMaxLength(100);
            session.Property(s => s.SubjectId).HasMaxLength(200);
            session.Property(s => s.SessionId).HasMaxLength(100);
            session.Property(s => s.Data).IsRequired();

            // Ending a user's sessions, or one session by its sid, and the cleanup find their rows by index.
            session.HasIndex(s => s.SubjectId);
            session.HasIndex(s => s.SessionId);
            session.HasIndex(s => s.Expires);
        });

        modelBuilder.Entity<BackChannelLogoutRow>(delivery =>
        {
            delivery.ToTable("BackChannelLogoutDeliveries");
            delivery.HasKey(d => d.Id);
            delivery.Property(d => d.Id).HasMaxLength(50);
            delivery.Property(d => d.Issuer).HasMaxLength(2048).IsRequired();
            delivery.Property(d => d.ClientId).HasMaxLength(200).IsRequired();
            delivery.Property(d => d.Uri).HasMaxLength(2048).IsRequired();
            delivery.Property(d => d.SubjectId).HasMaxLength(200).IsRequired();
            delivery.Property(d => d.SessionId).HasMaxLength(100);
            delivery.Property(d => d.Claimant).HasMaxLength(50);
            delivery.HasIndex(d => d.NextAttempt);
            delivery.HasIndex(d => d.Claimant);
        });

        modelBuilder.Entity<LeaseRow>(lease =>
        {
            lease.ToTable("Leases");
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasMaxLength(100);
            lease.Property(l => l.Holder).HasMaxLength(100).IsRequired();
        });

        modelBuilder.Entity<ReplayEntryRow>(entry =>
        {
            entry.ToTable("ReplayEntries");
            entry.HasKey(e => e.Key);

            // ReplayCacheKey's 43 characters; a little room in case the hash ever grows.
            entry.Property(e => e.Key).HasMaxLength(64);
            entry.HasIndex(e => e.Expires);
        });

        foreach (var table in new[] { ClientsTable, ApiScopesTable, ApiResourcesTable, IdentityResourcesTable })
        {
            modelBuilder.SharedTypeEntity<ConfigurationRow>(table, item =>
            {
                item.ToTable(table);
                item.HasKey(i => i.Name);
                item.Property(i => i.Name).HasMaxLength(200);
                item.Property(i => i.Json).IsRequired();
            });
        }
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

/// <summary>The model on SQLite, with the SQLite migrations.</summary>
public sealed class SqliteCastellanDbContext(DbContextOptions<SqliteCastellanDbContext> options) : CastellanDbContext(options);

/// <summary>The model on PostgreSQL, with the PostgreSQL migrations.</summary>
public sealed class PostgreSqlCastellanDbContext(DbContextOptions<PostgreSqlCastellanDbContext> options) : CastellanDbContext(options);
