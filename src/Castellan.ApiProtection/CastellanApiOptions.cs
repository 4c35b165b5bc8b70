using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Castellan.ApiProtection;

/// <summary>
/// Settings of the unified Castellan API scheme, which accepts JWT access tokens (validated locally) and
/// reference tokens (introspected) under one scheme name.
/// </summary>
public sealed class CastellanApiOptions
{
    /// <summary>The token service's issuer URL, e.g. <c>https://login.example.com</c>. Required.</summary>
    public string Authority { get; set; } = "";

    /// <summary>
    /// The audiences this API accepts: the names of its API resources. The first is also the name it introspects
    /// with. Required: at least one.
    /// </summary>
    public IList<string> Audiences { get; set; } = new List<string>();

    /// <summary>
    /// One of the API resource's ApiSecrets (plain text). Needed only for reference tokens: without it, tokens
    /// that are not JWTs are refused.
    /// </summary>
    public string? ApiSecret { get; set; }

    /// <summary>
    /// How long an introspection result is cached (never past the token's own <c>exp</c>). Default: 1 minute;
    /// <see cref="TimeSpan.Zero"/> turns caching off, so a revocation is seen at once. The cache is the
    /// registered <c>IDistributedCache</c> (memory unless you register Redis or SQL Server), keyed by the
    /// authority, the first audience and a hash of the token, so registrations sharing one cache stay apart. A
    /// cache that fails or holds a corrupt entry is treated as a miss (logged as a warning), never as an error.
    /// </summary>
    public TimeSpan IntrospectionCacheDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many validated JWTs to remember, so a token used again skips the signature check until it expires.
    /// Entries are dropped when the token service's discovery document (and so its key set) changes; lifetime is
    /// checked on every use. When the cache is full, expired entries go first, then those not used since the
    /// eviction sweep last passed them; the cache never holds more than this. Default: 10,000; 0 validates every
    /// JWT in full on every request.
    /// </summary>
    public int ValidatedTokenCacheSize { get; set; } = 10_000;

    /// <summary>Clock skew for lifetime checks of JWTs. Default: 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether discovery and introspection require HTTPS. Default: true, except for a loopback authority.
    /// </summary>
    public bool? RequireHttpsMetadata { get; set; }

    /// <summary>Handler for the discovery, JWKS and introspection backchannel; tests and proxies set this.</summary>
    public HttpMessageHandler? BackchannelHandler { get; set; }

    /// <summary>DPoP (RFC 9449) at this API: accepted by default, nonces off. See docs/api-protection.md#dpop.</summary>
    public CastellanApiDPoPOptions DPoP { get; set; } = new();

    public CastellanApiEvents Events { get; set; } = new();
}

/// <summary>
/// How the API treats DPoP. A token bound to a DPoP key (<c>cnf.jkt</c>) is only ever accepted with the <c>DPoP</c>
/// scheme and a proof signed by that key, whatever these settings say; they choose whether the scheme is offered
/// at all and whether proofs need a nonce from this API. The proof checks themselves (allowed algorithms, the
/// <c>iat</c> window, the replay cache) are those of <see cref="Castellan.Security.DPoPProofValidator"/>, configured
/// with <c>services.AddCastellanDPoPProofValidator(options => ...)</c>.
/// </summary>
public sealed class CastellanApiDPoPOptions
{
    /// <summary>
    /// Whether <c>Authorization: DPoP</c> is accepted and advertised in challenges (<c>DPoP algs="..."</c>). Default:
    /// true. When false, DPoP-bound tokens cannot be used at this API at all (they are refused as Bearer too).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether every proof must carry a nonce this API issued (RFC 9449 §9): a proof without one, or with a stale one,
    /// gets 401 <c>use_dpop_nonce</c> and a fresh nonce in <c>DPoP-Nonce</c>, and successful answers carry the current
    /// nonce. Nonces are stateless (<see cref="Castellan.Security.DPoPNonces"/>); in a cluster set the same
    /// <see cref="Castellan.Security.DPoPNonceOptions.HmacKey"/> on every node with
    /// <c>services.AddCastellanDPoPNonces(...)</c>, or share the Data Protection key ring. Default: false (a proof's
    /// freshness then rests on its <c>iat</c> window and the replay cache).
    /// </summary>
    public bool RequireNonce { get; set; }
}

/// <summary>Hooks for your own checks, called for both token kinds after Castellan's checks passed.</summary>
public class CastellanApiEvents
{
    /// <summary>Called with the authenticated principal; call <see cref="CastellanTokenValidatedContext.Fail"/> to reject.</summary>
    public Func<CastellanTokenValidatedContext, Task> OnTokenValidated { get; set; } = _ => Task.CompletedTask;

    public virtual Task TokenValidated(CastellanTokenValidatedContext context) => OnTokenValidated(context);
}

public sealed class CastellanTokenValidatedContext(HttpContext httpContext, ClaimsPrincipal principal, bool isReferenceToken)
{
    public HttpContext HttpContext { get; } = httpContext;

    public ClaimsPrincipal Principal { get; } = principal;

    /// <summary>True for a reference token resolved by introspection; false for a locally validated JWT.</summary>
    public bool IsReferenceToken { get; } = isReferenceToken;

    public string? FailureMessage { get; private set; }

    /// <summary>Rejects the token: the request gets 401 <c>invalid_token</c>. The message goes to the logs only.</summary>
    public void Fail(string message) => FailureMessage = message;
}

/// <summary>Scheme options; filled from <see cref="CastellanApiOptions"/>.</summary>
public sealed class CastellanApiSchemeOptions : AuthenticationSchemeOptions
{
    public CastellanApiOptions Api { get; set; } = new();
}
