using System.Globalization;
using System.Security.Claims;
using System.Text.Json;

namespace Castellan.Tokens;

/// <summary>How a claim's value is written as JSON.</summary>
internal enum TokenClaimKind
{
    String,
    Integer,
    Double,
    Boolean,

    /// <summary>Any JSON value, checked once and written as it is.</summary>
    Json,
}

/// <summary>
/// A claim as it goes into a token, with its JSON type: <c>"admin": true</c>, <c>"level": 3</c> and
/// <c>"address": { ... }</c> stay a boolean, a number and an object rather than strings. Built (and its value
/// checked) once per configuration, written without parsing on every token.
/// </summary>
internal readonly record struct TokenClaim(string Type, string Value, TokenClaimKind Kind)
{
    /// <returns>The claim, or null with a reason when <paramref name="value"/> does not fit <paramref name="valueType"/>.</returns>
    public static TokenClaim? Create(string type, string value, string? valueType, out string? error)
    {
        error = null;
        var kind = valueType switch
        {
            null or "" or ClaimValueTypes.String => TokenClaimKind.String,
            ClaimValueTypes.Integer or ClaimValueTypes.Integer64 or ClaimValueTypes.Integer32 => TokenClaimKind.Integer,
            ClaimValueTypes.Double => TokenClaimKind.Double,
            ClaimValueTypes.Boolean => TokenClaimKind.Boolean,
            ClientClaim.Json or "JSON" or "JSON_ARRAY" => TokenClaimKind.Json,
            _ => (TokenClaimKind?)null,
        };
        if (kind is null)
        {
            error = $"value type '{valueType}' is not one of string, integer, double, boolean or json";
            return null;
        }

        // Every non-string value is kept as the JSON text it is written as (numbers in their canonical form, JSON
        // minified), so a token is written without parsing anything.
        string? json = kind switch
        {
            TokenClaimKind.Integer => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                ? l.ToString(CultureInfo.InvariantCulture) : null,
            TokenClaimKind.Double => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                ? d.ToString("R", CultureInfo.InvariantCulture) : null,
            TokenClaimKind.Boolean => value is "true" or "false" ? value : null,
            TokenClaimKind.Json => Minify(value),
            _ => value,
        };
        if (json is null)
        {
            error = $"value '{(value.Length > 40 ? value[..40] + "..." : value)}' is not a valid {kind.Value.ToString().ToLowerInvariant()}";
            return null;
        }

        return new TokenClaim(type, json, kind.Value);
    }

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WritePropertyName(Type);
        if (Kind == TokenClaimKind.String)
        {
            writer.WriteStringValue(Value);
        }
        else
        {
            // Checked and normalised when the claim was created.
            writer.WriteRawValue(Value, skipInputValidation: true);
        }
    }

    private static string? Minify(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
