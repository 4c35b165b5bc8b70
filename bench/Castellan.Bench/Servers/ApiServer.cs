using Castellan.Security;
using Castellan.ApiProtection;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Castellan.Bench.Servers;

/// <summary>
/// An API endpoint returning a small JSON, for the validation benchmark: unprotected, unprotected but checking the
/// token's RS256 signature by hand (the cost of the signature alone, under the same load), behind Microsoft's
/// JwtBearer configured by hand, or behind Castellan's unified scheme (JWT, or reference tokens with and without
/// cache).
/// </summary>
internal static class ApiServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string variant, string keyPem, string authority)
    {
        if (variant == "api-verify")
        {
            var rsa = BenchSetup.LoadRsa(keyPem);
            return app =>
            {
                app.MapGet("/data", (HttpRequest request) =>
                {
                    // Only RSASSA-PKCS1-v1_5 over "header.payload": no parsing, no claims, no authentication pipeline.
                    var token = request.Headers.Authorization.ToString().AsSpan("Bearer ".Length);
                    var dot = token.LastIndexOf('.');
                    Span<byte> input = stackalloc byte[Encoding.ASCII.GetByteCount(token[..dot])];
                    Encoding.ASCII.GetBytes(token[..dot], input);
                    var signature = Base64Url.DecodeFromChars(token[(dot + 1)..]);
                    return rsa.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                        ? Results.Json(new { ok = true, items = 3 })
                        : Results.Unauthorized();
                });
                return Task.CompletedTask;
            };
        }

        switch (variant)
        {
            case "api-jwtbearer":
                builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
                {
                    o.Authority = authority;
                    o.Audience = BenchSetup.Audience;
                    o.RequireHttpsMetadata = false;
                    o.MapInboundClaims = false;
                    o.TokenValidationParameters.ValidTypes = ["at+jwt"];
                });
                break;
            case "api-castellan" or "api-castellan-nocache" or "api-castellan-ref-cache" or "api-castellan-ref-nocache" or "api-castellan-dpop":
                builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(o =>
                {
                    o.Authority = authority;
                    o.Audiences = [BenchSetup.Audience];
                    o.ApiSecret = BenchSetup.ApiSecret;
                    o.IntrospectionCacheDuration = variant == "api-castellan-ref-nocache" ? TimeSpan.Zero : TimeSpan.FromMinutes(5);
                    // "nocache": every request pays for the full JWT validation, as with JwtBearer.
                    o.ValidatedTokenCacheSize = variant == "api-castellan-nocache" ? 0 : 10_000;
                });
                if (variant == "api-castellan-dpop")
                {
                    // The bench signs a whole run's proofs (hundreds of thousands) before the run, which takes longer
                    // than the default 60 s iat window, and a run sends more proofs than the default replay cache
                    // holds (100,000: sized for about 1,000 proofs a second). A wider window and a larger cache change
                    // what the cache holds, not what a proof costs to check; docs/dpop.md says how to size them.
                    builder.Services.AddCastellanReplayCache(o => o.MaxEntries = 4_000_000);
                    builder.Services.AddCastellanDPoPProofValidator(o => o.IatWindow = TimeSpan.FromMinutes(5));
                }

                break;
        }

        builder.Services.AddAuthorization();
        return app =>
        {
            var endpoint = app.MapGet("/data", () => Results.Json(new { ok = true, items = 3 }));
            if (variant != "api-none")
            {
                endpoint.RequireAuthorization();
            }

            return Task.CompletedTask;
        };
    }
}
