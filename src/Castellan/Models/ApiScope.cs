namespace Castellan;

/// <summary>A permission an API enforces, requested by clients in the <c>scope</c> parameter (RFC 6749 §3.3).</summary>
public sealed class ApiScope
{
    public string Name { get; set; } = "";

    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    /// <summary>A disabled scope cannot be requested. Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The user cannot deselect this scope on the consent page.</summary>
    public bool Required { get; set; }

    /// <summary>The consent page marks this scope as sensitive.</summary>
    public bool Emphasize { get; set; }

    /// <summary>Whether discovery lists this scope in <c>scopes_supported</c>. Default: true.</summary>
    public bool ShowInDiscoveryDocument { get; set; } = true;

    /// <summary>User claim types to include in access tokens carrying this scope.</summary>
    public ICollection<string> UserClaims { get; set; } = new List<string>();

    public ApiScope()
    {
    }

    public ApiScope(string name, string? displayName = null)
    {
        Name = name;
        DisplayName = displayName;
    }
}
