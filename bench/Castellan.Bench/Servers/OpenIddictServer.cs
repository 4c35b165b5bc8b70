using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Castellan.Bench.Servers;

/// <summary>
/// The peer: an equivalent OpenIddict server (client credentials, RS256 with the shared key, JWT access tokens not
/// encrypted, audience api1). Default: OpenIddict's EF Core stores (in-memory provider) with token and
/// authorization storage on and its PBKDF2 client-secret check. Tuned: no token/authorization storage, and the
/// client-secret verification result cached per (client, secret).
/// </summary>
internal static class OpenIddictServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string keyPem, bool tuned)
    {
        builder.Services.AddDbContext<OpenIddictBenchDbContext>(o =>
        {
            o.UseInMemoryDatabase("openiddict-bench");
            o.UseOpenIddict();
        });

        builder.Services.AddOpenIddict()
            .AddCore(o =>
            {
                o.UseEntityFrameworkCore().UseDbContext<OpenIddictBenchDbContext>();
                if (tuned)
                {
                    o.ReplaceApplicationManager(typeof(CachingApplicationManager<>));
                }
            })
            .AddServer(o =>
            {
                o.SetTokenEndpointUris("connect/token");
                o.AllowClientCredentialsFlow();
                o.AddSigningKey(BenchSetup.RsaKey(keyPem));
                o.AddEphemeralEncryptionKey();
                o.DisableAccessTokenEncryption();
                o.RegisterScopes(BenchSetup.Scope);
                o.UseAspNetCore().EnableTokenEndpointPassthrough().DisableTransportSecurityRequirement();
                if (tuned)
                {
                    o.DisableTokenStorage();
                    o.DisableAuthorizationStorage();
                }
            });

        return async app =>
        {
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
                await manager.CreateAsync(new OpenIddictApplicationDescriptor
                {
                    ClientId = BenchSetup.ClientId,
                    ClientSecret = BenchSetup.ClientSecret,
                    ClientType = ClientTypes.Confidential,
                    Permissions =
                    {
                        Permissions.Endpoints.Token,
                        Permissions.GrantTypes.ClientCredentials,
                        Permissions.Prefixes.Scope + BenchSetup.Scope,
                    },
                });
            }

            app.MapPost("/connect/token", async (HttpContext context) =>
            {
                var request = context.GetOpenIddictServerRequest()!;
                var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
                identity.SetClaim(Claims.Subject, request.ClientId);
                identity.SetScopes(request.GetScopes());
                identity.SetResources(BenchSetup.Audience);
                identity.SetDestinations(_ => [Destinations.AccessToken]);
                await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            });
        };
    }
}

internal sealed class OpenIddictBenchDbContext(DbContextOptions<OpenIddictBenchDbContext> options) : DbContext(options);

/// <summary>OpenIddict's application manager with the (deliberately slow) client-secret verification cached.</summary>
internal sealed class CachingApplicationManager<TApplication>(
    IOpenIddictApplicationCache<TApplication> cache,
    ILogger<OpenIddictApplicationManager<TApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<TApplication> store)
    : OpenIddictApplicationManager<TApplication>(cache, logger, options, store)
    where TApplication : class
{
    private static readonly ConcurrentDictionary<(string?, string), bool> Results = new();

    public override async ValueTask<bool> ValidateClientSecretAsync(TApplication application, string secret, CancellationToken cancellationToken = default)
    {
        var key = (await GetClientIdAsync(application, cancellationToken), secret);
        if (Results.TryGetValue(key, out var valid))
        {
            return valid;
        }

        valid = await base.ValidateClientSecretAsync(application, secret, cancellationToken);
        Results[key] = valid;
        return valid;
    }
}
