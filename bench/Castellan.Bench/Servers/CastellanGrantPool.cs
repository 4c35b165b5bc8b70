using System.Globalization;
using System.Text;
using Castellan.Endpoints.Token;
using Castellan.Grants;
using Castellan.Pkce;
using Castellan.Protocol;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;

namespace Castellan.Bench.Servers;

/// <summary>
/// Bench-only seeding of single-use grants, so each timed request can spend a fresh one: <c>POST
/// /bench/seed?kind=refresh|code&amp;count=N</c> stores N refresh tokens or N authorization codes straight in the
/// grant store, in the engine's own format, and answers their handles, one a line. Each belongs to its own
/// authorization (its own family and session), as if N users had signed in once. A grant store on a database is
/// filled in bulk, with the rows its <c>StoreAsync</c> would write: one insert per grant would take minutes.
/// </summary>
internal static class CastellanGrantPool
{
    public static readonly Client WebClient = new()
    {
        ClientId = BenchSetup.WebClientId,
        ClientSecrets = { Secret.FromPlainText(BenchSetup.ClientSecret) },
        AllowedGrantTypes = { GrantTypes.AuthorizationCode },
        AllowOfflineAccess = true,
        RedirectUris = { BenchSetup.RedirectUri },
        AllowedScopes = { StandardScopes.OpenId, BenchSetup.Scope },

        // The longest the configuration allows, so a pool seeded before the warm-up outlives the measured run.
        AuthorizationCodeLifetime = 600,
    };

    private static readonly string Challenge = PkceValidator.S256Challenge(BenchSetup.CodeVerifier);

    /// <summary>Grants per insert transaction when seeding a database: large enough to be quick, small enough for the change tracker.</summary>
    private const int DatabaseBatch = 5_000;

    public static async Task SeedAsync(HttpContext context)
    {
        var kind = context.Request.Query["kind"].ToString();
        var count = int.Parse(context.Request.Query["count"].ToString(), CultureInfo.InvariantCulture);

        // For profiling by hand: another scope than the variant's (e.g. a code without openid, a refresh with it).
        var scope = context.Request.Query["scope"] is { Count: 1 } requested ? requested.ToString() : null;
        var grants = context.RequestServices.GetRequiredService<IPersistedGrantStore>();
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var handles = new StringBuilder(count * 45);
        var batchSize = grants is EntityFrameworkGrantStore ? DatabaseBatch : 1;
        var batch = new List<PersistedGrant>(batchSize);
        for (var i = 0; i < count; i++)
        {
            var handle = GrantHandles.New();
            batch.Add(kind switch
            {
                "refresh" => RefreshTokenService.NewGrant(handle, WebClient, User(scope ?? BenchSetup.RefreshScope, now), now),
                "code" => Code(handle, scope ?? BenchSetup.CodeScope, now),
                _ => throw new ArgumentException($"Unknown pool kind '{kind}'."),
            });
            handles.Append(handle).Append('\n');
            if (batch.Count == batchSize || i == count - 1)
            {
                await StoreAsync(context.RequestServices, grants, batch, context.RequestAborted);
                batch.Clear();
            }
        }

        // The seeding's garbage is not the measured run's to collect.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(handles.ToString(), context.RequestAborted);
    }

    private static async Task StoreAsync(IServiceProvider services, IPersistedGrantStore grants, List<PersistedGrant> batch, CancellationToken cancellationToken)
    {
        if (grants is not EntityFrameworkGrantStore)
        {
            foreach (var grant in batch)
            {
                await grants.StoreAsync(grant, cancellationToken);
            }

            return;
        }

        await using var db = services.GetRequiredService<CastellanDatabase>().CreateContext();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        db.PersistedGrants.AddRange(batch.Select(EntityFrameworkGrantStore.ToRow));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static UserGrant User(string scope, DateTimeOffset now) => new()
    {
        SubjectId = BenchSetup.SubjectId,
        SessionId = GrantHandles.NewFamilyId(),
        FamilyId = GrantHandles.NewFamilyId(),
        AuthTime = now,
        Amr = ["pwd"],
        AuthorizedAt = now,
        GrantedScopes = scope.Split(' '),
    };

    /// <summary>A code as <c>AuthorizationCodeIssuer</c> stores it after an authorization request with PKCE (S256) and a nonce.</summary>
    private static PersistedGrant Code(string code, string scope, DateTimeOffset now) => new()
    {
        Key = GrantHandles.KeyFor(PersistedGrantTypes.AuthorizationCode, code),
        Type = PersistedGrantTypes.AuthorizationCode,
        ClientId = WebClient.ClientId,
        SubjectId = BenchSetup.SubjectId,
        SessionId = GrantHandles.NewFamilyId(),
        FamilyId = GrantHandles.NewFamilyId(),
        CreationTime = now,
        Expiration = now.AddSeconds(WebClient.AuthorizationCodeLifetime),
        Data = new AuthorizationGrantData
        {
            Scopes = scope.Split(' '),
            AuthTime = now.ToUnixTimeSeconds(),
            Amr = ["pwd"],
            AuthorizedAt = now.ToUnixTimeSeconds(),
            RedirectUri = BenchSetup.RedirectUri,
            CodeChallenge = Challenge,
            CodeChallengeMethod = PkceValidator.S256,
            Nonce = "bench-nonce",
        }.Serialize(),
    };
}
