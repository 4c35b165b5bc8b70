using System.CommandLine;

namespace Castellan.Host.Admin;

/// <summary>A convenience option of <c>add</c> and <c>update</c>: given, it sets one property of the item after its JSON is read.</summary>
internal sealed class ItemOption<T>(Option option, Action<ParseResult, T> apply)
{
    public Option Option { get; } = option;

    /// <returns>Whether the option was given.</returns>
    public bool ApplyIfGiven(ParseResult result, T item)
    {
        // An option left out may still have a result, an implicit one holding its default.
        if (result.GetResult(Option) is not { Implicit: false })
        {
            return false;
        }

        apply(result, item);
        return true;
    }
}

internal static class ItemOptions
{
    public static ItemOption<T> Text<T>(string name, string description, Action<T, string> set)
    {
        var option = new Option<string>(name) { Description = description };
        return new ItemOption<T>(option, (result, item) => set(item, result.GetValue(option) ?? ""));
    }

    /// <summary>Values separated by commas or spaces, or the option repeated; the list given replaces the item's (<c>""</c> empties it).</summary>
    public static ItemOption<T> List<T>(string name, string description, Func<T, ICollection<string>> list)
    {
        var option = new Option<string[]>(name) { Description = description + " Separated by commas or spaces, or the option repeated; replaces the current list." };
        return new ItemOption<T>(option, (result, item) =>
        {
            var target = list(item);
            target.Clear();
            foreach (var value in Split(result.GetValue(option)))
            {
                target.Add(value);
            }
        });
    }

    public static ItemOption<T> Flag<T>(string name, string description, Action<T, bool> set)
    {
        var option = new Option<bool>(name) { Description = description };
        return new ItemOption<T>(option, (result, item) => set(item, result.GetValue(option)));
    }

    public static ItemOption<T> Choice<T, TValue>(string name, string description, Action<T, TValue> set) where TValue : struct, Enum
    {
        var option = new Option<TValue>(name) { Description = description + " One of " + string.Join(", ", Enum.GetNames<TValue>()) + "." };
        return new ItemOption<T>(option, (result, item) => set(item, result.GetValue(option)));
    }

    public static IEnumerable<string> Split(IEnumerable<string>? values)
        => (values ?? []).SelectMany(v => v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
