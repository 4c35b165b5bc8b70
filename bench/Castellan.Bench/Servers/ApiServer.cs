using Castellan.ApiProtection;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Castellan.Bench.Servers;

/// <summary>
/// An API endpoint returning a small JSON, for the validation benchmark: unprotected, behind Microsoft's JwtBearer
/// configured by hand, or behind Castellan's unified scheme (JWT, or reference tokens with and without cache).
/// </summary>
internal static class ApiServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string variant, string authority)
    {
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
            case "api-castellan" or "api-castellan-ref-cache" or "api-castellan-ref-nocache":
                builder.Services.AddAuthentication(CastellanApiExtensions.DefaultScheme).AddCastellanApi(o =>
                {
                    o.Authority = authority;
                    o.Audiences = [BenchSetup.Audience];
                    o.ApiSecret = BenchSetup.ApiSecret;
                    o.IntrospectionCacheDuration = variant == "api-castellan-ref-nocache" ? TimeSpan.Zero : TimeSpan.FromMinutes(5);
                });
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
