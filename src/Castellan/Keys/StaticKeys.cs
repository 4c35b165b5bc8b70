using Microsoft.IdentityModel.Tokens;

namespace Castellan.Keys;

/// <summary>
/// Keys the user manages: signing credentials given in code or configuration, and extra validation keys
/// (e.g. a predecessor still publishing). When any signing credential is given, automatic key management is off.
/// </summary>
internal sealed class StaticKeys
{
    public List<(string Algorithm, SecurityKey Key)> Signing { get; } = [];

    public List<(string Algorithm, SecurityKey Key)> Validation { get; } = [];
}
