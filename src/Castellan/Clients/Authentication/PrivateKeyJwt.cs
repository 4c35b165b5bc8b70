using System.Text.Json;
using Castellan.Hosting;
using Castellan.Protocol;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Clients.Authentication;

/// <summary>
/// <c>private_key_jwt</c> (RFC 7523 §2.2, OpenID Connect Core §9): the client signs a short-lived JWT with its private
/// key and sends it as <c>client_assertion</c>; the server checks it with the public key registered for the client
/// (a <see cref="SecretTypes.JsonWebKey"/> secret) or published at its <see cref="Client.JwksUri"/>. No secret the
/// server holds can authenticate the client, so a leak of the server's configuration or database gives none away
/// (RFC 9700 §2.5).
/// </summary>
/// <remarks>
/// The checks, beyond the signature: <c>iss</c> and <c>sub</c> are the client, <c>aud</c> is this server's issuer
/// identifier (or, with <see cref="ClientAssertionOptions.AcceptTokenEndpointAudience"/>, the endpoint's URL), the
/// assertion expires within <see cref="ClientAssertionOptions.MaxLifetime"/>, a <c>typ</c>, when present, is
/// <c>client-authentication+jwt</c> or <c>JWT</c> (so a token of another kind, an access token or a DPoP proof,
/// cannot be passed off as an assertion), and its <c>jti</c> is accepted once (<see cref="IReplayCache"/>).
/// </remarks>
internal sealed class PrivateKeyJwt(
    IClientJwksFetcher jwks,
    IReplayCache replays,
    IssuerResolver issuers,
    IOptions<CastellanOptions> options) : IClientAuthenticationMethod
{
    /// <summary>draft-ietf-oauth-rfc7523bis: the media type that marks a JWT as a client assertion.</summary>
    public const string AssertionType = "client-authentication+jwt";

    private const int MaxJwtIdLength = 256;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    private static readonly ProtocolError Malformed = new(OAuthErrors.InvalidClient, ProtocolError.InvalidClient.Description, "the client assertion is not a well-formed JWT");

    private readonly CastellanOptions _options = options.Value;
    private readonly HashSet<string> _algorithms = new(options.Value.ClientAssertions.AllowedAlgorithms.Where(IsAsymmetric), StringComparer.Ordinal);

    public string Name => ClientAuthenticationMethods.PrivateKeyJwt;

    public bool Authenticates => true;

    /// <summary>The algorithms assertions may be signed with, for discovery.</summary>
    public IReadOnlyCollection<string> Algorithms => _algorithms;

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
            return ProtocolError.InvalidRequest("client_assertion and client_assertion_type are sent together.");
        }

        if (!string.Equals(type, ClientAuthenticationMethods.JwtBearerAssertionType, StringComparison.Ordinal))
        {
            return new ProtocolError(OAuthErrors.InvalidClient, "The client_assertion_type is not supported.");
        }

        if (assertion.Length > request.Limits.ClientAssertion)
        {
            return ProtocolError.InvalidClient;
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(assertion);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or JsonException)
        {
            return Malformed;
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
            return $"the assertion is signed with '{LogText(jwt.Alg)}', which is not an allowed algorithm ({string.Join(", ", _algorithms)})";
        }

        if (jwt.TryGetHeaderValue<string>(JwtHeaderParameterNames.Typ, out var typ)
            && !string.Equals(typ, AssertionType, StringComparison.OrdinalIgnoreCase) && !string.Equals(typ, "JWT", StringComparison.OrdinalIgnoreCase))
        {
            return $"the assertion's typ is '{LogText(typ)}', not {AssertionType}";
        }

        var keys = Keys(client, now);
        if (client.Client.JwksUri is { } published)
        {
            keys.AddRange(await jwks.GetKeysAsync(published, refresh: false, cancellationToken).ConfigureAwait(false));
        }

        var result = await ValidateAsync(jwt, keys, request, now).ConfigureAwait(false);
        if (!result.IsValid && client.Client.JwksUri is { } uri
            && result.Exception is SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException)
        {
            // The key may be new: the client rotated. Fetch again (the fetcher rate-limits this) and try once more.
            keys = Keys(client, now);
            keys.AddRange(await jwks.GetKeysAsync(uri, refresh: true, cancellationToken).ConfigureAwait(false));
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

        // RFC 7523 §3 item 7: a jti is used once. Scoped to the client, so one client cannot block another's ids.
        var expiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + skew;
        return await replays.TryAddAsync(ReplayCachePurposes.ClientAssertion, client.Client.ClientId + " " + jti, expiresAt, cancellationToken).ConfigureAwait(false)
            ? null
            : "the assertion's jti was used before";
    }

    private static bool IsAsymmetric(string algorithm)
        => algorithm.StartsWith("RS", StringComparison.Ordinal) || algorithm.StartsWith("PS", StringComparison.Ordinal) || algorithm.StartsWith("ES", StringComparison.Ordinal);

    private static List<SecurityKey> Keys(ClientModel client, DateTimeOffset now)
        => [.. client.AssertionKeys.Where(k => k.Expiration is null || k.Expiration > now).Select(k => (SecurityKey)k.Key)];

    private Task<TokenValidationResult> ValidateAsync(JsonWebToken jwt, List<SecurityKey> keys, ClientRequest request, DateTimeOffset now)
    {
        var issuer = issuers.GetIssuer(request.Http.HttpContext);
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
            ClockSkew = _options.ClientAssertions.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, parameters) =>
                expires is { } e && e + parameters.ClockSkew > now.UtcDateTime && (notBefore is not { } nb || nb - parameters.ClockSkew <= now.UtcDateTime),
            ValidateTokenReplay = false,
        });
    }

    private static string? ClaimString(JsonWebToken jwt, string name) => jwt.TryGetPayloadValue<string>(name, out var value) ? value : null;

    private static string LogText(string? value) => ClientAuthenticator.LogSafe(value ?? "");
}
