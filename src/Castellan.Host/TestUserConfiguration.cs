using System.Globalization;
using System.Security.Claims;
using System.Text.Json;

namespace Castellan.Host;

/// <summary>
/// Turns the <c>Castellan:TestUsers</c> section into <see cref="TestUser"/>s. Configuration only has strings, so a
/// claim's JSON type (which it keeps in id_tokens and userinfo) comes from its name, as OIDC Core §5.1 defines the
/// standard claims, or from its value when that is a JSON object or array.
/// </summary>
internal static class TestUserConfiguration
{
    /// <summary>Claims the server writes itself (from the session and the request); a user's own would clash.</summary>
    private static readonly HashSet<string> ReservedClaims = new(StringComparer.Ordinal)
    {
        "sub", "iss", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash", "c_hash",
        "s_hash", "cnf", "client_id", "scope",
    };

    /// <summary>Reads every user; each problem is added to <paramref name="errors"/> with its setting's path, never with a password.</summary>
    public static List<TestUser> Read(IReadOnlyList<HostSettings.TestUserSettings> settings, List<string> errors)
    {
        var users = new List<TestUser>();
        var subjects = new HashSet<string>(StringComparer.Ordinal);

        // The user store looks usernames up case-insensitively, so "Alice" and "alice" would be one account.
        var usernames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < settings.Count; i++)
        {
            var path = $"{HostConfiguration.SectionName}:TestUsers:{i}";
            var user = settings[i];
            var valid = true;
            if (string.IsNullOrWhiteSpace(user.SubjectId))
            {
                errors.Add($"{path}:SubjectId is missing; every user needs a stable subject identifier (it becomes 'sub').");
                valid = false;
            }
            else if (!subjects.Add(user.SubjectId))
            {
                errors.Add($"{path}:SubjectId '{user.SubjectId}' is used by more than one test user; subject identifiers must be unique.");
                valid = false;
            }

            if (string.IsNullOrWhiteSpace(user.Username))
            {
                errors.Add($"{path}:Username is missing.");
                valid = false;
            }
            else if (!usernames.Add(user.Username))
            {
                errors.Add($"{path}:Username '{user.Username}' is used by more than one test user (usernames are compared case-insensitively).");
                valid = false;
            }

            if (string.IsNullOrWhiteSpace(user.Password))
            {
                // The password itself is never part of a message.
                errors.Add($"{path}:Password is missing or empty.");
                valid = false;
            }

            var claims = new List<Claim>();
            foreach (var (type, value) in user.Claims)
            {
                if (ToClaim(type, value, $"{path}:Claims:{type}", errors) is { } claim)
                {
                    claims.Add(claim);
                }
                else
                {
                    valid = false;
                }
            }

            if (valid)
            {
                users.Add(new TestUser
                {
                    SubjectId = user.SubjectId!,
                    Username = user.Username!,
                    Password = user.Password!,
                    Claims = claims,
                    IsActive = user.IsActive,
                });
            }
        }

        return users;
    }

    /// <returns>The claim with its value type, or null (and an error) when the value does not fit the claim.</returns>
    /// <remarks>Values are not quoted in errors: they are personal data, and the path names the claim.</remarks>
    internal static Claim? ToClaim(string type, string? value, string path, List<string> errors)
    {
        if (ReservedClaims.Contains(type))
        {
            errors.Add($"{path}: '{type}' is set by the server itself; remove it (the subject is the user's SubjectId).");
            return null;
        }

        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"{path}: the value is empty; give it a value or remove the claim.");
            return null;
        }

        switch (type)
        {
            // OIDC Core §5.1: booleans.
            case "email_verified" or "phone_number_verified":
                if (!bool.TryParse(value, out var flag))
                {
                    errors.Add($"{path}: must be true or false (OIDC Core §5.1 defines it as a boolean).");
                    return null;
                }

                return new Claim(type, flag ? "true" : "false", ClaimValueTypes.Boolean);

            // OIDC Core §5.1: seconds since 1970-01-01T00:00:00Z.
            case "updated_at":
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    errors.Add($"{path}: must be a number of seconds since 1970-01-01T00:00:00Z (OIDC Core §5.1), e.g. 1767225600.");
                    return null;
                }

                return new Claim(type, seconds.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64);

            // OIDC Core §5.1.1: one JSON object.
            case "address":
                if (ParseJson(value) is not JsonValueKind.Object)
                {
                    errors.Add($"{path}: must be a JSON object (OIDC Core §5.1.1), e.g. \"{{\\\"street_address\\\":\\\"1 Main St\\\",\\\"country\\\":\\\"NL\\\"}}\".");
                    return null;
                }

                return new Claim(type, value, ClientClaim.Json);

            default:
                // Anything else that is written as a JSON object or array stays one; other values are strings.
                return value[0] is '{' or '[' && ParseJson(value) is JsonValueKind.Object or JsonValueKind.Array
                    ? new Claim(type, value, ClientClaim.Json)
                    : new Claim(type, value, ClaimValueTypes.String);
        }
    }

    private static JsonValueKind? ParseJson(string value)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            return document.RootElement.ValueKind;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
