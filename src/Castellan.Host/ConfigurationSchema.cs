using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Castellan.Host;

/// <summary>
/// Checks a configuration section against the types it binds to, before anything is bound: every name must be
/// a setting (a near miss gets a suggestion), every value must convert to its setting's type, and every problem
/// is reported at once with its full path. The configuration binder itself drops unknown names silently and
/// stops at the first bad value with an exception.
/// </summary>
internal static class ConfigurationSchema
{
    public static List<string> Check(IConfigurationSection section, Type type)
    {
        var errors = new List<string>();
        CheckNode(section, type, errors);
        return errors;
    }

    private static void CheckNode(IConfigurationSection section, Type type, List<string> errors)
    {
        var children = section.GetChildren().ToList();
        if (IsLeaf(type))
        {
            if (children.Count > 0)
            {
                errors.Add($"{section.Path}: expected {Describe(type)}, found an object or a list.");
            }
            else if (section.Value is { } value && !Converts(value, type))
            {
                errors.Add($"{section.Path}: '{Printable(value)}' is not {Describe(type)}.");
            }

            return;
        }

        if (children.Count == 0)
        {
            // An empty JSON object or list ({} or []) arrives as an empty value.
            if (!string.IsNullOrEmpty(section.Value))
            {
                errors.Add($"{section.Path}: '{Printable(section.Value)}' is a single value; expected {(ElementType(type) is null ? "an object with settings" : "a list")}.");
            }

            return;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            foreach (var child in children)
            {
                CheckNode(child, valueType, errors);
            }

            return;
        }

        if (ElementType(type) is { } elementType)
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{child.Path}: '{child.Key}' is not a list position; {section.Path} is a list ([ ... ] in JSON).");
                    continue;
                }

                CheckNode(child, elementType, errors);
            }

            return;
        }

        var properties = Settings(type);
        foreach (var child in children)
        {
            // The binder matches names case-insensitively; so does this check.
            if (properties.TryGetValue(child.Key, out var property))
            {
                CheckNode(child, property.PropertyType, errors);
                continue;
            }

            var suggestion = Closest(child.Key, properties.Keys);
            errors.Add(suggestion is null
                ? $"{child.Path}: '{Printable(child.Key)}' is not a setting of {section.Path}."
                : $"{child.Path}: '{Printable(child.Key)}' is not a setting of {section.Path}; did you mean '{suggestion}'?");
        }
    }

    /// <summary>The names the binder would set: public properties that have a setter, or that hold an object or a mutable collection.</summary>
    private static Dictionary<string, PropertyInfo> Settings(Type type)
    {
        var settings = new Dictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var settable = property.SetMethod is { IsPublic: true };
            var fillable = !IsLeaf(property.PropertyType) && !IsReadOnlyCollection(property.PropertyType);
            if (settable || (property.GetMethod is { IsPublic: true } && fillable))
            {
                settings[property.Name] = property;
            }
        }

        return settings;
    }

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid) || type == typeof(Uri);
    }

    private static bool IsReadOnlyCollection(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var definition
           && (definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>));

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        foreach (var candidate in type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(ICollection<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }

        return null;
    }

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var candidate in type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>))
            {
                return candidate.GetGenericArguments()[1];
            }
        }

        return null;
    }

    private static bool Converts(string value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null && value.Length == 0)
        {
            return true;
        }

        type = underlying ?? type;
        if (type == typeof(string))
        {
            return true;
        }

        if (type.IsEnum)
        {
            // Names only: the binder would also take a number, but "3" for an access token type is a mistake.
            return Enum.GetNames(type).Any(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        try
        {
            // The same converter the configuration binder uses.
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException
                                       or InvalidOperationException || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number",
            _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number",
            _ when type == typeof(TimeSpan) => "a time span: [days.]hours:minutes:seconds, e.g. \"90.00:00:00\" for 90 days or \"00:05:00\" for 5 minutes",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a date and time, e.g. \"2027-01-31T00:00:00Z\"",
            _ when type == typeof(Guid) => "a GUID",
            _ when type == typeof(Uri) => "a URI",
            _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ => "a " + type.Name,
        };
    }

    /// <summary>The valid name a misspelt one most likely meant: a small edit distance, or one contains the other.</summary>
    internal static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        if (best is null)
        {
            return null;
        }

        var close = bestDistance <= Math.Max(2, best.Length / 4)
            || best.StartsWith(name, StringComparison.OrdinalIgnoreCase) || name.StartsWith(best, StringComparison.OrdinalIgnoreCase);
        return close ? best : null;
    }

    private static int Distance(string a, string b)
    {
        // Levenshtein, two rows.
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>Values and names from a file go into a one-line message: no control characters, bounded length.</summary>
    internal static string Printable(string value)
    {
        var text = value.Length > 80 ? value[..80] + "..." : value;
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}
