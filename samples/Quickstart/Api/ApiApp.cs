using Castellan.ApiProtection;

namespace Quickstart.Api;

/// <summary>The protected API of the quickstart: <c>GET /identity</c> returns the caller's claims, if its token has scope api1.</summary>
public static class ApiApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var authority = builder.Configuration["Authority"] ?? "http://127.0.0.1:5001";

        builder.Services.AddAuthentication().AddCastellanJwtBearer(authority, audience: "api1");
        builder.Services.AddAuthorization(options => options.AddScopePolicy("ApiScope", "api1"));

        var app = builder.Build();
        app.MapGet("/identity", (System.Security.Claims.ClaimsPrincipal user) =>
                user.Claims.Select(c => new { type = c.Type, value = c.Value }))
            .RequireAuthorization("ApiScope");
        return app;
    }
}
