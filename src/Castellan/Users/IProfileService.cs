using System.Security.Claims;

namespace Castellan.Users;

/// <summary>
/// Supplies the user claims that go into id_tokens, userinfo and access tokens, and says whether a user may still
/// get tokens. The default reads <see cref="IUserStore"/>; replace it to add claims from elsewhere (a directory, a
/// database of entitlements) or to end access for users your system disabled.
/// </summary>
public interface IProfileService
{
    /// <returns>
    /// The user's claims of the types in <see cref="ProfileRequest.RequestedClaimTypes"/> (others are dropped).
    /// A type given more than once becomes a JSON array.
    /// </returns>
    ValueTask<IReadOnlyList<Claim>> GetProfileClaimsAsync(ProfileRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Asked before every token issued for a user (code redemption, refresh, userinfo): false ends the user's access
    /// (<c>invalid_grant</c> at the token endpoint, <c>invalid_token</c> at userinfo).
    /// </summary>
    ValueTask<bool> IsActiveAsync(string subjectId, Client client, string caller, CancellationToken cancellationToken);
}

/// <summary>What the profile service is asked for.</summary>
/// <param name="Caller">One of <see cref="ProfileCallers"/>.</param>
public sealed record ProfileRequest(string SubjectId, Client Client, IReadOnlySet<string> RequestedClaimTypes, string Caller);

/// <summary>Who asks the profile service.</summary>
public static class ProfileCallers
{
    public const string IdentityToken = "IdentityToken";
    public const string UserInfo = "UserInfo";
    public const string AccessToken = "AccessToken";
    public const string RefreshToken = "RefreshToken";
}
