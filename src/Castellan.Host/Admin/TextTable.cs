using System.Globalization;

namespace Castellan.Host.Admin;

/// <summary>Left-aligned columns as wide as their widest cell, for the listing commands.</summary>
internal static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        WriteRow(output, headers, widths);
        foreach (var row in rows)
        {
            WriteRow(output, row, widths);
        }
    }

    /// <summary>A UTC time to the minute, as every command prints times.</summary>
    public static string Date(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";

    public static string Date(DateTimeOffset? value) => value is { } date ? Date(date) : "";

    private static void WriteRow(TextWriter output, IReadOnlyList<string> cells, int[] widths)
    {
        // The last column is not padded, so lines carry no trailing blanks.
        var line = string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i])));
        output.WriteLine(line.TrimEnd());
    }
}
