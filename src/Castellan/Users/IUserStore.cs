using Castellan.Tokens;

namespace Castellan.Users;

/// <summary>
/// Where users come from: the one seam between Castellan and an account system. The in-memory store serves
/// <see cref="TestUser"/>s; an ASP.NET Core Identity store implements the same four questions.
/// </summary>
public interface IUserStore
{
    /// <returns>The user, or null when no user has this name.</returns>
    ValueTask<CastellanUser?> FindByUsernameAsync(string username, CancellationToken cancellationToken);

    /// <returns>The user, or null when no user has this subject identifier.</returns>
    ValueTask<CastellanUser?> FindBySubjectAsync(string subjectId, CancellationToken cancellationToken);

    /// <returns>
    /// The user when the password is theirs, else null. Implementations compare in constant time and spend the same
    /// work on unknown names, so the answer's timing does not tell which names exist.
    /// </returns>
    ValueTask<CastellanUser?> ValidateCredentialsAsync(string username, string password, CancellationToken cancellationToken);
}

/// <summary>A user as Castellan sees one: who, whether they may sign in, and their claims.</summary>
public sealed class CastellanUser
{
    public CastellanUser(string subjectId, string username, bool isActive, IEnumerable<System.Security.Claims.Claim> claims)
    {
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        SubjectId = subjectId;
        Username = username;
        IsActive = isActive;
        Claims = claims.ToArray();
    }

    public string SubjectId { get; }

    public string Username { get; }

    public bool IsActive { get; }

    public IReadOnlyList<System.Security.Claims.Claim> Claims { get; }

    /// <summary>What the login page greets the user with: the <c>name</c> claim, else the username.</summary>
    public string DisplayName => Claims.FirstOrDefault(c => c.Type == "name")?.Value ?? Username;
}
