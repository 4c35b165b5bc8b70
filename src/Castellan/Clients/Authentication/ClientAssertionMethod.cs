using System.Text.Json;
using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// What the two JWT client authentication methods of RFC 7523 §2.2 and OpenID Connect Core §9 share: the client sends
/// a short-lived JWT as <c>client_assertion</c>, and the server checks it. They differ only in the key: a public key
/// of the client for <c>private_key_jwt</c>, the client's shared secret for <c>client_secret_jwt</c>. Which one an
/// assertion uses is told by its <c>alg</c> (HMAC or not), so exactly one of the two reads each assertion.
/// </summary>
/// <remarks>
/// The checks, beyond the signature: <c>iss</c> and <c>sub</c> are the client, <c>aud</c> is this server's issuer
/// identifier (or, with <see cref="ClientAssertionOptions.AcceptTokenEndpointAudience"/>, the endpoint's URL), the
/// assertion expires within <see cref="ClientAssertionOptions.MaxLifetime"/>, a <c>typ</c>, when present, is
/// <c>client-authentication+jwt</c> or <c>JWT</c> (so a token of another kind, an access token or a DPoP proof,
/// cannot be passed off as an assertion), and its <c>jti</c> is accepted once (<see cref="IReplayCache"/>).
/// </remarks>
internal abstract class ClientAssertionMethod : IClientAuthenticationMethod
{
    /// <summary>draft-ietf-oauth-rfc7523bis: the media type that marks a JWT as a client assertion.</summary>
    public const string AssertionType = "client-authentication+jwt";

    private const int MaxJwtIdLength = 256;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private static readonly ProtocolError Malformed = new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, "the client assertion is not a well-formed JWT");

    private readonly IReplayCache _replays;
    private readonly IssuerResolver _issuers;
    private readonly CastellanOptions _options;
    private readonly HashSet<string> _algorithms;

    protected ClientAssertionMethod(IReplayCache replays, IssuerResolver issuers, IOptions<CastellanOptions> options)
    {
        _replays = replays;
        _issuers = issuers;
        _options = options.Value;
        _algorithms = new(options.Value.ClientAssertions.AllowedAlgorithms.Where(a => SupportedAlgorithms.Contains(a) && IsHmac(a) == UsesHmac), StringComparer.Ordinal);
    }

    public abstract string Name { get; }

    public bool Authenticates => true;

    /// <summary>The algorithms this method's assertions may be signed with, for discovery.</summary>
    public IReadOnlyCollection<string> Algorithms => _algorithms;

    /// <summary>Whether this method's assertions are HMACs over a shared secret (<c>client_secret_jwt</c>) rather than signatures.</summary>
    protected abstract bool UsesHmac { get; }

    /// <summary>Whether <paramref name="algorithm"/> is one of JWA's HMACs (RFC 7518 §3.2).</summary>
    public static bool IsHmac(string? algorithm) => algorithm is not null && algorithm.StartsWith("HS", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="algorithm"/> is one of JWA's signatures (RFC 7518 §3.3 to §3.5): the only ones <c>private_key_jwt</c> takes.</summary>
    public static bool IsAsymmetric(string algorithm) => SupportedAlgorithms.Contains(algorithm) && !IsHmac(algorithm);

    /// <summary>Every algorithm an assertion can be checked with; <see cref="ClientAssertionOptions.AllowedAlgorithms"/> chooses among them.</summary>
    public static readonly IReadOnlySet<string> SupportedAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
    };

    public Outcome<PresentedCredentials>? Read(ClientRequest request)
    {
        var type = request.FormValue(OAuthParameters.ClientAssertionType);
        var assertion = request.FormValue(OAuthParameters.ClientAssertion);
        if (type is null && assertion is null)
        {
            return null;
        }

        if (type is null || assertion is null)
        {
            return Malformation(ProtocolError.InvalidRequest("client_assertion and client_assertion_type are sent together."));
        }

        if (!string.Equals(type, ClientAuthenticationMethods.JwtBearerAssertionType, StringComparison.Ordinal))
        {
            return Malformation(new ProtocolError(OAuthErrors.InvalidClient, "The client_assertion_type is not supported."));
        }

        if (assertion.Length > request.Limits.ClientAssertion)
        {
            return Malformation(ProtocolError.InvalidClient);
        }

        if (Parse(request, assertion) is not { } jwt)
        {
            return Malformation(Malformed);
        }

        // The assertion's alg names its method: an HMAC is client_secret_jwt, anything else (none included, which is
        // then refused) private_key_jwt.
        if (IsHmac(jwt.Alg) != UsesHmac)
        {
            return null;
        }

        // RFC 7523 §3: iss and sub are both the client_id; a client_id parameter, when sent, names the same client.
        var issuer = ClaimString(jwt, JwtClaimNames.Issuer);
        var subject = ClaimString(jwt, JwtClaimNames.Subject);
        if (string.IsNullOrEmpty(subject) || !string.Equals(issuer, subject, StringComparison.Ordinal) || subject.Length > request.Limits.ClientId)
        {
            return new ProtocolError(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, "the client assertion's iss and sub are not one client_id");
        }

        if (request.FormValue(OAuthParameters.ClientId) is { } clientId && !string.Equals(clientId, subject, StringComparison.Ordinal))
        {
            return ProtocolError.InvalidRequest("The client_id parameter does not match the client assertion.");
        }

        return new PresentedCredentials(subject, this, Assertion: jwt);
    }

    /// <summary>The key under which the first method to read an assertion leaves it parsed for the other.</summary>
    private static readonly object ParsedKey = new();

    /// <summary>The assertion as a JWT, or null when it is not one; parsed once per request, though both methods read it.</summary>
    private static JsonWebToken? Parse(ClientRequest request, string assertion)
    {
        var items = request.Http.HttpContext.Items;
        if (items.TryGetValue(ParsedKey, out var parsed) && parsed is ParsedAssertion previous && ReferenceEquals(previous.Text, assertion))
        {
            return previous.Token;
        }

        JsonWebToken? jwt;
        try
        {
            jwt = new JsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or JsonException)
        {
            jwt = null;
        }

        items[ParsedKey] = new ParsedAssertion(assertion, jwt);
        return jwt;
    }

    private sealed record ParsedAssertion(string Text, JsonWebToken? Token);

    /// <summary>A request whose assertion is malformed is answered by the asymmetric method alone, so that it is answered once.</summary>
    private Outcome<PresentedCredentials>? Malformation(ProtocolError error)
    {
        if (UsesHmac)
        {
            return null;
        }

        return error;
    }

    public async ValueTask<string?> VerifyAsync(PresentedCredentials presented, ClientModel? client, ClientRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // An unknown client has no keys to try; its id is no secret, so answering at once tells nothing worth hiding.
        if (client is null)
        {
            return "unknown client";
        }

        var jwt = presented.Assertion!;
        if (!_algorithms.Contains(jwt.Alg))
        {
            return $"the assertion is signed with '{LogText(jwt.Alg)}', which is not an allowed algorithm for {Name} ({string.Join(", ", _algorithms)})";
        }

        if (jwt.TryGetHeaderValue<string>(JwtHeaderParameterNames.Typ, out var typ)
            && !string.Equals(typ, AssertionType, StringComparison.OrdinalIgnoreCase) && !string.Equals(typ, "JWT", StringComparison.OrdinalIgnoreCase))
        {
            return $"the assertion's typ is '{LogText(typ)}', not {AssertionType}";
        }

        var keys = await GetKeysAsync(client, jwt.Alg, now, refresh: false, cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0 && !CanRefresh(client))
        {
            return NoKeys;
        }

        var result = await ValidateAsync(jwt, keys, request, now).ConfigureAwait(false);
        if (!result.IsValid && CanRefresh(client)
            && result.Exception is SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException)
        {
            // The key may be new: the client rotated. Fetch again (the fetcher rate-limits this) and try once more.
            keys = await GetKeysAsync(client, jwt.Alg, now, refresh: true, cancellationToken).ConfigureAwait(false);
            result = await ValidateAsync(jwt, keys, request, now).ConfigureAwait(false);
        }

        if (!result.IsValid)
        {
            return "the assertion is not valid: " + result.Exception?.Message;
        }

        // Bounded lifetime: the jti is remembered until exp, so an assertion valid for a day would hold its entry as long.
        var maxLifetime = _options.ClientAssertions.MaxLifetime;
        var skew = _options.ClientAssertions.ClockSkew;
        if (jwt.ValidTo - now.UtcDateTime > maxLifetime + skew
            || (jwt.TryGetPayloadValue<long>(JwtClaimNames.IssuedAt, out _) && jwt.ValidTo - jwt.IssuedAt > maxLifetime + skew))
        {
            return $"the assertion is valid for longer than {maxLifetime.TotalSeconds:0} seconds";
        }

        if (ClaimString(jwt, JwtClaimNames.JwtId) is not { Length: > 0 and <= MaxJwtIdLength } jti)
        {
            return "the assertion has no jti (or one too long)";
        }

        // RFC 7523 §3 item 7: a jti is used once. Scoped to the client, so one client cannot block another's ids;
        // one cache for both methods, so an id cannot be used once with each.
        var expiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + skew;
        return await _replays.TryAddAsync(ReplayCachePurposes.ClientAssertion, client.Client.ClientId + " " + jti, expiresAt, cancellationToken).ConfigureAwait(false)
            ? null
            : "the assertion's jti was used before";
    }

    /// <summary>What the log says when the client has no key this method could check with.</summary>
    protected abstract string NoKeys { get; }

    /// <summary>The keys that may verify an assertion of <paramref name="client"/> signed with <paramref name="algorithm"/>, unexpired at <paramref name="now"/>.</summary>
    /// <param name="refresh">Whether keys the client publishes are fetched again, because the first try found none that matched.</param>
    protected abstract ValueTask<List<SecurityKey>> GetKeysAsync(ClientModel client, string algorithm, DateTimeOffset now, bool refresh, CancellationToken cancellationToken);

    /// <summary>Whether the client's keys can change under us (a published key set), so a failed check is worth a second fetch.</summary>
    protected virtual bool CanRefresh(ClientModel client) => false;

    private Task<TokenValidationResult> ValidateAsync(JsonWebToken jwt, List<SecurityKey> keys, ClientRequest request, DateTimeOffset now)
    {
        var issuer = _issuers.GetIssuer(request.Http.HttpContext);
        var audiences = new List<string> { issuer };
        if (_options.ClientAssertions.AcceptTokenEndpointAudience)
        {
            // RFC 7523 §3 allowed the token endpoint's URL; the endpoint being called is accepted with it.
            audiences.Add(IssuerResolver.Url(issuer, _options.Endpoints.Token));
            audiences.Add(IssuerResolver.Url(issuer, request.Http.Path.Value ?? ""));
        }

        return Handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = jwt.Subject,
            ValidAudiences = audiences,
            IssuerSigningKeys = keys,
            ValidAlgorithms = _algorithms,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            // A symmetric key has no kid to match; every key of the client is tried, which for a handful is cheap.
            TryAllIssuerSigningKeys = true,
            ClockSkew = _options.ClientAssertions.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, parameters) =>
                expires is { } e && e + parameters.ClockSkew > now.UtcDateTime && (notBefore is not { } nb || nb - parameters.ClockSkew <= now.UtcDateTime),
            ValidateTokenReplay = false,
        });
    }

    private static string? ClaimString(JsonWebToken jwt, string name) => jwt.TryGetPayloadValue<string>(name, out var value) ? value : null;

    private static string LogText(string? value) => ClientAuthenticator.LogSafe(value ?? "");
}
