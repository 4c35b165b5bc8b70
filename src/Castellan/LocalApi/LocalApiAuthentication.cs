using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Castellan.Hosting;
using Castellan.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan;

/// <summary>Settings of the local API scheme.</summary>
public sealed class LocalApiAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>The API resource name a token must carry in <c>aud</c> to be accepted. Required.</summary>
    public string Audience { get; set; } = "";
}

public static class LocalApiAuthenticationExtensions
{
    public const string DefaultScheme = "CastellanLocalApi";

    /// <summary>
    /// Protects APIs hosted inside the token service itself (user management and the like): access tokens are
    /// validated in-process against the server's own keys and grant store, with no HTTP round-trip to its own
    /// discovery or introspection endpoints. Use with <c>[Authorize(AuthenticationSchemes = "CastellanLocalApi")]</c>
    /// or <c>.RequireAuthorization(...)</c>.
    /// </summary>
    public static ICastellanBuilder AddLocalApiAuthentication(this ICastellanBuilder builder, string audience, string scheme = DefaultScheme)
    {
        ArgumentException.ThrowIfNullOrEmpty(audience);
        builder.Services.AddAuthentication().AddScheme<LocalApiAuthenticationOptions, LocalApiAuthenticationHandler>(scheme, o => o.Audience = audience);
        return builder;
    }
}

internal sealed class LocalApiAuthenticationHandler(
    IOptionsMonitor<LocalApiAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenValidator validator,
    IssuerResolver issuer)
    : AuthenticationHandler<LocalApiAuthenticationOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var token = value[7..].Trim();
        var validated = await validator.ValidateAsync(token, issuer.GetIssuer(Context), Context.RequestAborted).ConfigureAwait(false);
        if (validated is null || !validated.Audiences.Contains(Options.Audience))
        {
            return AuthenticateResult.Fail("The access token is not valid for this API.");
        }

        var claims = new List<Claim>();
        using (var document = JsonDocument.Parse(validated.PayloadJson))
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Array)
                {
                    claims.AddRange(property.Value.EnumerateArray().Select(item => new Claim(property.Name, Text(item))));
                }
                else
                {
                    claims.Add(new Claim(property.Name, Text(property.Value)));
                }
            }
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, "sub", "role"));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = Request.Headers.Authorization.Count == 0
            ? "Bearer"
            : "Bearer error=\"invalid_token\", error_description=\"The access token is not valid.\"";
        return Task.CompletedTask;
    }

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
