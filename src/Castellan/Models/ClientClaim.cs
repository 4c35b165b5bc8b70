using System.Security.Claims;

namespace Castellan;

/// <summary>A claim added to every access token issued to a client.</summary>
public sealed class ClientClaim
{
    public string Type { get; set; } = "";

    public string Value { get; set; } = "";

    /// <summary>
    /// How <see cref="Value"/> is written into the token, so claims keep their JSON types: null or
    /// <see cref="ClaimValueTypes.String"/> (the default) a string; <see cref="ClaimValueTypes.Integer"/>,
    /// <see cref="ClaimValueTypes.Integer64"/> or <see cref="ClaimValueTypes.Integer32"/> a number;
    /// <see cref="ClaimValueTypes.Double"/> a number with a fraction; <see cref="ClaimValueTypes.Boolean"/>
    /// <c>true</c>/<c>false</c>; <see cref="Json"/> any JSON value (an object such as an address, an array).
    /// A value that does not fit its type is a startup error.
    /// </summary>
    public string? ValueType { get; set; }

    /// <summary>The <see cref="ValueType"/> for a JSON value (Duende's name).</summary>
    public const string Json = "json";

    public ClientClaim()
    {
    }

    public ClientClaim(string type, string value, string? valueType = null)
    {
        Type = type;
        Value = value;
        ValueType = valueType;
    }
}
