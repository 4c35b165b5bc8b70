using System.Collections.Frozen;
using Castellan.Diagnostics;
using Castellan.Grants;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Stores;
using Castellan.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Token.Grants;

/// <summary>
/// RFC 6749 §6. Parameters: <c>refresh_token</c>, <c>scope</c> (optional, may only narrow). With
/// <see cref="TokenUsage.OneTimeOnly"/> each use consumes the token and stores its successor in one atomic step;
/// presenting a consumed token again revokes the whole family (RFC 9700 §4.14.2), except by the same client within
/// <see cref="Client.RefreshTokenRotationGracePeriod"/>, which gets another working token of the family (parallel
/// refreshes in one app).
/// </summary>
internal sealed partial class RefreshTokenGrantValidator(
    IPersistedGrantStore grants,
    IProfileService profiles,
    TimeProvider time,
    IOptions<CastellanOptions> options,
    ILogger<RefreshTokenGrantValidator> logger) : ITokenGrantValidator
{
    private static readonly ProtocolError Invalid = new(OAuthErrors.InvalidGrant, "The refresh token is invalid, expired or revoked.");
    private static readonly ProtocolError Missing = ProtocolError.InvalidRequest("The refresh_token parameter is missing.");

    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public string GrantType => GrantTypes.RefreshToken;

    public IReadOnlySet<string> RepeatableParameters => FrozenSet<string>.Empty;

    public async ValueTask<Outcome<ValidatedTokenRequest>> ValidateAsync(TokenRequestContext context, CancellationToken cancellationToken)
    {
        var handle = context.Parameter(OAuthParameters.RefreshToken);
        if (handle is null)
        {
            return Missing;
        }

        var scope = context.Parameter(OAuthParameters.Scope);
        if (handle.Length > _limits.RefreshToken || scope?.Length > _limits.Scope)
        {
            return ProtocolError.InvalidRequest("A parameter of the token request is too long.");
        }

        var client = context.Client.Client;
        var key = GrantHandles.KeyFor(PersistedGrantTypes.RefreshToken, handle);
        var now = time.GetUtcNow();
        var grant = await grants.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (grant is null || grant.Type != PersistedGrantTypes.RefreshToken || grant.SubjectId is null || grant.FamilyId is null
            || AuthorizationGrantData.Deserialize(grant.Data) is not { } data)
        {
            return Fail("refresh token unknown or revoked");
        }

        // RFC 6749 §6: bound to the client it was issued to.
        if (!string.Equals(grant.ClientId, client.ClientId, StringComparison.Ordinal))
        {
            return Fail($"refresh token of client '{grant.ClientId}' presented by client '{client.ClientId}'");
        }

        // RFC 9449 §5: a refresh token bound to a key (one issued to a public client with a proof) is usable only
        // with a proof from that same key. The RFC names no error code for this; the token is invalid for this
        // request just as one bound to another client is (RFC 6749 §5.2 invalid_grant). Checked before the replay
        // detection below, so someone holding a stolen token but not the key cannot revoke the family with it.
        if (data.DPoPKeyThumbprint is { } bound && !string.Equals(bound, context.DPoPKeyThumbprint, StringComparison.Ordinal))
        {
            return Fail(context.DPoPKeyThumbprint is null
                ? "DPoP-bound refresh token presented without a DPoP proof"
                : "DPoP-bound refresh token presented with a proof from another key");
        }

        // RFC 8705 §4: a refresh token bound to a certificate (a public client's, issued over mutual TLS) is usable only
        // over a connection with that certificate; the same error and the same order as for a DPoP binding.
        if (data.CertificateThumbprint is { } certificate
            && (context.CertificateThumbprint is not { } presented || !FixedTimeEquals(certificate, presented)))
        {
            return Fail(context.CertificateThumbprint is null
                ? "certificate-bound refresh token presented without the client certificate"
                : "certificate-bound refresh token presented with another client certificate");
        }

        if (grant.ConsumedTime is { } consumed && !WithinGrace(client, consumed, now))
        {
            return await ReplayedAsync(grant, client.ClientId, cancellationToken).ConfigureAwait(false);
        }

        if (grant.Expiration <= now)
        {
            return Fail("refresh token expired");
        }

        if (!await profiles.IsActiveAsync(grant.SubjectId, client, ProfileCallers.RefreshToken, cancellationToken).ConfigureAwait(false))
        {
            return Fail("the user is no longer active");
        }

        var user = UserGrant.From(grant, grant.SubjectId, grant.FamilyId, data);

        // RFC 6749 §6: a requested scope must not include any scope not originally granted; the access token may be
        // narrower, the grant (and the refresh token continuing it) stays as it was.
        var requested = scope ?? string.Join(' ', data.Scopes);
        var narrowed = new List<string>();
        if (!ScopeParser.TryParse(requested, narrowed) || narrowed.Any(s => !data.Scopes.Contains(s)))
        {
            return ProtocolError.InvalidScope("The requested scope exceeds what was granted.");
        }

        var granted = ScopeValidator.Validate(requested, data.ResourceIndicators, context.Client.Model, context.Resources, context.Issuer,
            int.MaxValue, allowIdentityScopes: true);
        if (granted.IsError)
        {
            return new ProtocolError(OAuthErrors.InvalidGrant, "The granted scopes are no longer available.", granted.Error!.Description);
        }

        string next;
        if (grant.ConsumedTime is not null)
        {
            // Inside the grace period: the rotation already happened for a parallel request; this one gets a sibling.
            next = GrantHandles.New();
            await grants.StoreAsync(RefreshTokenService.NewGrant(next, client, user, now), cancellationToken).ConfigureAwait(false);
            LogGrace(logger, client.ClientId);
        }
        else if (client.RefreshTokenUsage == TokenUsage.OneTimeOnly)
        {
            next = GrantHandles.New();
            var winner = await grants.TryConsumeAndReplaceAsync(key, RefreshTokenService.NewGrant(next, client, user, now), now, cancellationToken).ConfigureAwait(false);
            if (winner is null)
            {
                // Another request consumed it between our read and our rotation.
                var current = await grants.GetAsync(key, cancellationToken).ConfigureAwait(false);
                if (current?.ConsumedTime is not { } raced || !WithinGrace(client, raced, now))
                {
                    return current is null ? Fail("refresh token revoked meanwhile") : await ReplayedAsync(current, client.ClientId, cancellationToken).ConfigureAwait(false);
                }

                await grants.StoreAsync(RefreshTokenService.NewGrant(next, client, user, now), cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            next = handle;
            if (client.RefreshTokenExpiration == TokenExpiration.Sliding)
            {
                await grants.StoreAsync(grant with { Expiration = RefreshTokenService.Expiration(client, user.AuthorizedAt, now) }, cancellationToken).ConfigureAwait(false);
            }
        }

        return new ValidatedRefreshTokenRequest(context.Client, context.Issuer, granted.Value!, user, next);
    }

    private static bool FixedTimeEquals(string expected, string presented)
        => System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(presented));

    private static bool WithinGrace(Client client, DateTimeOffset consumed, DateTimeOffset now)
        => client.RefreshTokenRotationGracePeriod > 0 && now - consumed <= TimeSpan.FromSeconds(client.RefreshTokenRotationGracePeriod);

    /// <summary>A rotated token came back: one of its holders is not the client. Revoke the family (RFC 9700 §4.14.2).</summary>
    private async Task<ProtocolError> ReplayedAsync(PersistedGrant grant, string clientId, CancellationToken cancellationToken)
    {
        var revoked = await grants.RemoveAllAsync(new PersistedGrantFilter { FamilyId = grant.FamilyId }, cancellationToken).ConfigureAwait(false);
        CastellanTelemetry.GrantReplays.Add(1, new KeyValuePair<string, object?>("grant_type", GrantTypes.RefreshToken));
        LogReplay(logger, clientId, revoked);
        return Fail("refresh token already rotated: family revoked");
    }

    private static ProtocolError Fail(string detail) => new(OAuthErrors.InvalidGrant, Invalid.Description, detail);

    [LoggerMessage(2011, LogLevel.Warning, "A rotated refresh token of client {ClientId} was presented again; its grant family was revoked ({Revoked} grants).", EventName = "RefreshTokenReplayed")]
    private static partial void LogReplay(ILogger logger, string clientId, int revoked);

    [LoggerMessage(2012, LogLevel.Debug, "A just-rotated refresh token of client {ClientId} was presented within the grace period; another token of the family was issued.", EventName = "RefreshTokenGraceUse")]
    private static partial void LogGrace(ILogger logger, string clientId);
}
