using Castellan.ApiProtection;
using Castellan.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// An API protected by <c>Castellan.ApiProtection</c>'s scheme, mapped into the fuzzed server so that the fuzz test
/// sends its hostile headers to the API side too: DPoP-bound tokens with proofs that must carry an API nonce
/// (RFC 9449 §9), the strictest setting, which puts the nonce check on every case.
/// </summary>
internal static class FuzzApi
{
    public const string Scheme = "FuzzApi";
    public const string Path = "/fuzz/api";
    public const string DisplayName = "Castellan API scheme, DPoP with nonces";

    /// <param name="authority">The server itself: the API reads its discovery and keys from it.</param>
    public static void Register(ICastellanBuilder castellan, string authority)
        => castellan.Services.AddAuthentication().AddCastellanApi(Scheme, options =>
        {
            options.Authority = authority;
            options.Audiences = ["api1"];
            options.ApiSecret = TokenServer.Api1Secret;
            options.DPoP.RequireNonce = true;
        });

    public static void Map(WebApplication app)
        => app.MapMethods(Path, ["GET", "POST"], (HttpContext context) => context.User.FindFirst("client_id")?.Value ?? "")
            .RequireAuthorization(policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser())
            .WithDisplayName(DisplayName);

    /// <summary>A nonce of the API, as a client gets it: a first call without one, answered 401 with <c>DPoP-Nonce</c>.</summary>
    public static async Task<string> NonceAsync(HttpClient http, string baseAddress, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Path.TrimStart('/'));
        request.Headers.TryAddWithoutValidation("Authorization", "DPoP " + token);
        request.Headers.TryAddWithoutValidation("DPoP", FuzzClients.DPoPKey.Proof("GET", baseAddress.TrimEnd('/') + Path, token));
        using var response = await http.SendAsync(request);
        Assert.True(response.Headers.TryGetValues("DPoP-Nonce", out var nonces), $"The fuzz API gave no nonce: {(int)response.StatusCode}");
        return nonces.Single();
    }
}
