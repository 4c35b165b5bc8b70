using System.Text;
using System.Text.Json;
using Castellan.Keys;
using Castellan.Protocol;
using Castellan.Stores;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tokens;

/// <summary>An access token this server issued and that is still valid, with its claim set.</summary>
internal sealed class ValidatedAccessToken
{
    public ValidatedAccessToken(string payloadJson, bool isReference, string tokenType = TokenTypes.Bearer)
    {
        PayloadJson = payloadJson;
        IsReference = isReference;
        using var document = JsonDocument.Parse(payloadJson);
        var root = document.RootElement;

        // RFC 9449 §6.2: introspection reports a DPoP-bound access token (cnf.jkt) as token_type DPoP.
        TokenType = tokenType == TokenTypes.Bearer && root.TryGetProperty("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object
            && cnf.TryGetProperty("jkt", out _)
            ? Castellan.Security.DPoPConstants.TokenType
            : tokenType;
        ClientId = root.TryGetProperty(JwtClaimNames.ClientId, out var clientId) ? clientId.GetString() : null;
        Issuer = root.TryGetProperty(JwtClaimNames.Issuer, out var iss) ? iss.GetString() : null;
        Expiration = root.TryGetProperty(JwtClaimNames.Expires, out var exp) && exp.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.MinValue;
        var audiences = new List<string>();
        if (root.TryGetProperty(JwtClaimNames.Audience, out var aud))
        {
            if (aud.ValueKind == JsonValueKind.String)
            {
                audiences.Add(aud.GetString()!);
            }
            else if (aud.ValueKind == JsonValueKind.Array)
            {
                audiences.AddRange(aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!));
            }
        }

        Audiences = audiences;
    }

    /// <summary>The RFC 9068 claim set as JSON.</summary>
    public string PayloadJson { get; }

    public bool IsReference { get; }

    /// <summary>What introspection reports as <c>token_type</c>: <c>Bearer</c>, <c>DPoP</c> for a DPoP-bound access token, or <c>refresh_token</c> for a refresh token.</summary>
    public string TokenType { get; }

    public string? ClientId { get; }

    public string? Issuer { get; }

    public IReadOnlyList<string> Audiences { get; }

    public DateTimeOffset Expiration { get; }
}

/// <summary>
/// Validates access tokens issued by this server, in-process: JWTs against the key ring (signature, typ,
/// algorithm, lifetime, issuer), reference tokens against the grant store (known, not expired); either kind only
/// while its client exists and is enabled. Used by introspection and by APIs hosted inside the token service.
/// </summary>
internal sealed class AccessTokenValidator(KeyRingProvider keys, ReferenceTokenService referenceTokens, IClientStore clients, TimeProvider time)
{
    /// <summary>Tokens longer than this are not looked at. Castellan's own are far shorter.</summary>
    public const int MaxTokenLength = 16 * 1024;

    private readonly JsonWebTokenHandler _handler = new();

    // Shared by concurrent requests without a lock, so it is one immutable object published by a single reference
    // write: a nullable tuple is a multi-word struct, and a reader racing a writer could pair one ring with another
    // ring's parameters (a torn read). volatile orders the publication, so a reader that sees the object also sees
    // the fields its constructor wrote, on ARM as on x64.
    private volatile RingParameters? _parameters;

    /// <returns>The validated token, or null when it is not an active token of this server.</returns>
    public async ValueTask<ValidatedAccessToken?> ValidateAsync(string token, string issuer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }

        ValidatedAccessToken? validated;
        if (ReferenceTokenService.IsHandleShaped(token))
        {
            var grant = await referenceTokens.FindAsync(token, cancellationToken).ConfigureAwait(false);
            if (grant is null || grant.Expiration <= time.GetUtcNow())
            {
                return null;
            }

            validated = new ValidatedAccessToken(grant.Data, isReference: true);
        }
        else
        {
            validated = await ValidateJwtAsync(token, cancellationToken).ConfigureAwait(false);
        }

        // Both kinds carry the issuer they were minted under; a token from another issuer name is not ours.
        if (validated is null || !string.Equals(validated.Issuer, issuer, StringComparison.Ordinal))
        {
            return null;
        }

        // A token is only as good as the client it was issued to: once that client is disabled or removed, its tokens
        // are inactive (RFC 7662 §2.2 leaves the criteria to the server), so turning a client off takes effect at
        // every API that introspects and at local APIs, without waiting for exp. JWTs that APIs validate themselves
        // stay valid until they expire. Every token this server issues names its client (RFC 9068 §2.2); one that
        // does not is not ours to vouch for.
        return validated.ClientId is not null
               && await clients.FindClientByIdAsync(validated.ClientId, cancellationToken).ConfigureAwait(false) is { Enabled: true }
            ? validated
            : null;
    }

    private async ValueTask<ValidatedAccessToken?> ValidateJwtAsync(string token, CancellationToken cancellationToken)
    {
        var ring = await keys.GetAsync(cancellationToken).ConfigureAwait(false);
        var result = await _handler.ValidateTokenAsync(token, ParametersFor(ring)).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        return new ValidatedAccessToken(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload)), isReference: false);
    }

    private TokenValidationParameters ParametersFor(KeyRing ring)
    {
        var cached = _parameters;
        if (cached is not null && ReferenceEquals(cached.Ring, ring))
        {
            return cached.Parameters;
        }

        var parameters = new TokenValidationParameters
        {
            // The issuer is compared by the caller (it may be derived per request); the audience by the endpoint.
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            IssuerSigningKeys = ring.ValidationKeys,
            ValidTypes = [TokenTypes.AccessTokenJwt],
            ValidAlgorithms = SigningAlgorithms.Supported,
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } e && e > now && (notBefore is not { } nb || nb <= now);
            },
        };
        // Two requests may build parameters for the same new ring at once; either result is correct, the last wins.
        _parameters = new RingParameters(ring, parameters);
        return parameters;
    }

    /// <summary>The validation parameters built for one key ring, never changed after construction.</summary>
    private sealed record RingParameters(KeyRing Ring, TokenValidationParameters Parameters);
}
