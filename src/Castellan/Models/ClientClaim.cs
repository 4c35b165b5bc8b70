namespace Castellan;

/// <summary>A claim added to every access token issued to a client.</summary>
public sealed class ClientClaim
{
    public string Type { get; set; } = "";

    public string Value { get; set; } = "";

    public ClientClaim()
    {
    }

    public ClientClaim(string type, string value)
    {
        Type = type;
        Value = value;
    }
}
