using System.Security.Claims;

namespace Castellan;

/// <summary>
/// A user kept in memory (code or the host's <c>TestUsers</c> section), for development, tests and small fixed
/// deployments. The password is hashed when the store is built and compared in constant time; it is never kept as
/// given. Real deployments plug in ASP.NET Core Identity behind <see cref="Users.IUserStore"/>.
/// </summary>
public sealed class TestUser
{
    /// <summary>The stable, never reassigned identifier that becomes <c>sub</c> (OIDC Core §5.1).</summary>
    public string SubjectId { get; set; } = "";

    /// <summary>The name the user signs in with; compared case-insensitively.</summary>
    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>
    /// The user's claims (<c>name</c>, <c>email</c>, <c>address</c>...). A claim's <see cref="Claim.ValueType"/>
    /// keeps its JSON type in tokens and userinfo: <c>ClaimValueTypes.Boolean</c>, <c>Integer</c>, <c>Double</c>,
    /// or <c>"json"</c> for an object such as <c>address</c>.
    /// </summary>
    public ICollection<Claim> Claims { get; set; } = new List<Claim>();

    /// <summary>An inactive user cannot sign in, and their sessions and refresh tokens stop working. Default: true.</summary>
    public bool IsActive { get; set; } = true;
}
