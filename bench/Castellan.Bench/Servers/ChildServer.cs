using Castellan.Bench.Servers;

namespace Castellan.Bench;

/// <summary>A server variant in its own process, so its CPU time can be measured alone.</summary>
internal static class ChildServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var variant = args[0];
        var port = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        var keyPem = args[2];
        // [authority] [--database <provider's connection string>]
        var database = Array.IndexOf(args, "--database");
        var authority = args.Length > 3 && database != 3 ? args[3] : null;
        var storage = database > 0 && BenchStorage.ProviderOf(variant) is { } provider ? new BenchStorage(provider, args[database + 1]) : null;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, port));
        var issuer = $"http://127.0.0.1:{port}";

        Func<WebApplication, Task> map = variant switch
        {
            "floor" => FloorServer.Configure(builder, keyPem, issuer),
            "openiddict-default" => OpenIddictServer.Configure(builder, keyPem, tuned: false),
            "openiddict-tuned" => OpenIddictServer.Configure(builder, keyPem, tuned: true),
            "castellan-rs256" or "castellan-refresh" or "castellan-code" or "castellan-ref" => CastellanServer.Configure(builder, keyPem, issuer, es256: false),
            "castellan-rs256-sqlite" or "castellan-rs256-pg" or "castellan-ref-sqlite" or "castellan-ref-pg" or "castellan-refresh-sqlite" or "castellan-refresh-pg"
                => CastellanServer.Configure(builder, keyPem, issuer, es256: false, storage ?? throw new ArgumentException("Database variants need --database <connection string>.")),
            "castellan-es256" => CastellanServer.Configure(builder, keyPem, issuer, es256: true),
            "castellan-dpop" => CastellanServer.Configure(builder, keyPem, issuer, es256: false, dpop: true),
            "castellan-dpop-pg" => CastellanServer.Configure(builder, keyPem, issuer, es256: false,
                storage ?? throw new ArgumentException("Database variants need --database <connection string>."), dpop: true),
            "api-none" or "api-verify" or "api-jwtbearer" or "api-castellan" or "api-castellan-nocache" or "api-castellan-ref-cache" or "api-castellan-ref-nocache" or "api-castellan-dpop"
                => ApiServer.Configure(builder, variant, keyPem, authority ?? throw new ArgumentException("API variants need the token service's URL.")),
            _ => throw new ArgumentException($"Unknown variant '{variant}'."),
        };

        var app = builder.Build();
        app.MapGet("/ready", () => "ok");
        await map(app);
        await app.RunAsync();
        return 0;
    }
}
