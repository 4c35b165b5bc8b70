using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace Castellan.Users;

/// <summary>
/// <see cref="TestUser"/>s added with <c>AddTestUsers</c>. Passwords are kept only as salted SHA-256 hashes and
/// compared in constant time; an unknown username costs the same hash, so timing does not reveal which names exist.
/// </summary>
internal sealed class InMemoryUserStore : IUserStore
{
    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(32);
    private readonly FrozenDictionary<string, Entry> _byUsername;
    private readonly FrozenDictionary<string, Entry> _bySubject;
    private readonly byte[] _decoy;

    public InMemoryUserStore(InMemoryUsers users)
    {
        var entries = users.Users.Select(u => new Entry(
            new CastellanUser(u.SubjectId, u.Username, u.IsActive, u.Claims), Hash(u.Password))).ToArray();
        _byUsername = entries.GroupBy(e => e.User.Username, StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        _bySubject = entries.GroupBy(e => e.User.SubjectId, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _decoy = Hash(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
    }

    public ValueTask<CastellanUser?> FindByUsernameAsync(string username, CancellationToken cancellationToken)
        => ValueTask.FromResult(_byUsername.GetValueOrDefault(username)?.User);

    public ValueTask<CastellanUser?> FindBySubjectAsync(string subjectId, CancellationToken cancellationToken)
        => ValueTask.FromResult(_bySubject.GetValueOrDefault(subjectId)?.User);

    public ValueTask<CastellanUser?> ValidateCredentialsAsync(string username, string password, CancellationToken cancellationToken)
    {
        var entry = _byUsername.GetValueOrDefault(username);
        var presented = Hash(password);
        var matches = CryptographicOperations.FixedTimeEquals(presented, entry?.PasswordHash ?? _decoy);
        return ValueTask.FromResult(entry is not null && matches ? entry.User : null);
    }

    private byte[] Hash(string password)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        var salted = new byte[_salt.Length + bytes.Length];
        _salt.CopyTo(salted, 0);
        bytes.CopyTo(salted, _salt.Length);
        return SHA256.HashData(salted);
    }

    private sealed record Entry(CastellanUser User, byte[] PasswordHash);
}

/// <summary>Everything added with <c>AddTestUsers</c>; validated at startup.</summary>
internal sealed class InMemoryUsers
{
    public List<TestUser> Users { get; } = [];
}

/// <summary>The default profile service: the user's claims from <see cref="IUserStore"/>, filtered to what was asked.</summary>
internal sealed class DefaultProfileService(IUserStore users) : IProfileService
{
    public async ValueTask<IReadOnlyList<Claim>> GetProfileClaimsAsync(ProfileRequest request, CancellationToken cancellationToken)
    {
        var user = await users.FindBySubjectAsync(request.SubjectId, cancellationToken).ConfigureAwait(false);
        if (user is null || request.RequestedClaimTypes.Count == 0)
        {
            return [];
        }

        var claims = new List<Claim>();
        foreach (var claim in user.Claims)
        {
            if (request.RequestedClaimTypes.Contains(claim.Type))
            {
                claims.Add(claim);
            }
        }

        return claims;
    }

    public async ValueTask<bool> IsActiveAsync(string subjectId, Client client, string caller, CancellationToken cancellationToken)
        => await users.FindBySubjectAsync(subjectId, cancellationToken).ConfigureAwait(false) is { IsActive: true };
}
