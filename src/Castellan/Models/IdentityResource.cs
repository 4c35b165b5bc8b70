namespace Castellan;

/// <summary>A set of user claims a client can request with a scope, e.g. <c>openid</c> or <c>profile</c>.</summary>
public sealed class IdentityResource
{
    public string Name { get; set; } = "";

    public string? DisplayName { get; set; }

    public bool Enabled { get; set; } = true;

    public string? Description { get; set; }

    /// <summary>The user cannot deselect this scope on the consent page.</summary>
    public bool Required { get; set; }

    /// <summary>The consent page marks this scope as sensitive.</summary>
    public bool Emphasize { get; set; }

    public bool ShowInDiscoveryDocument { get; set; } = true;

    public ICollection<string> UserClaims { get; set; } = new List<string>();

    public IdentityResource()
    {
    }

    public IdentityResource(string name, IEnumerable<string> userClaims)
    {
        Name = name;
        UserClaims = userClaims.ToList();
    }

    /// <summary>The <c>openid</c> scope (OIDC Core §5.4): the subject identifier.</summary>
    public static IdentityResource OpenId() => new("openid", ["sub"]) { Required = true };

    /// <summary>The <c>profile</c> scope (OIDC Core §5.4).</summary>
    public static IdentityResource Profile() => new("profile",
        ["name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
         "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"]);

    /// <summary>The <c>email</c> scope (OIDC Core §5.4).</summary>
    public static IdentityResource Email() => new("email", ["email", "email_verified"]);

    /// <summary>The <c>address</c> scope (OIDC Core §5.4): one JSON object (§5.1.1).</summary>
    public static IdentityResource Address() => new("address", ["address"]);

    /// <summary>The <c>phone</c> scope (OIDC Core §5.4).</summary>
    public static IdentityResource Phone() => new("phone", ["phone_number", "phone_number_verified"]);
}
