using System.Text.RegularExpressions;

namespace Castellan.Host.Ui;

/// <summary>How the pages look, from <c>Castellan:Branding</c>; checked at startup.</summary>
internal sealed partial record Branding(string Name, string? LogoUrl, string PrimaryColor, string? FooterText)
{
    public const string DefaultName = "Castellan";
    public const string DefaultPrimaryColor = "#2557a7";

    public static Branding Default { get; } = new(DefaultName, null, DefaultPrimaryColor, null);

    /// <summary>Reads the settings; each problem is added to <paramref name="errors"/> with its path.</summary>
    public static Branding Read(HostSettings.BrandingSettings settings, List<string> errors)
    {
        var path = $"{HostConfiguration.SectionName}:Branding";
        var color = settings.PrimaryColor ?? DefaultPrimaryColor;

        // The colour is written into the pages' style sheet: only a hex colour can never be more CSS than a colour.
        if (!HexColor().IsMatch(color))
        {
            errors.Add($"{path}:PrimaryColor: '{ConfigurationSchema.Printable(color)}' is not a CSS hex colour; write it as #rrggbb, e.g. \"{DefaultPrimaryColor}\".");
        }

        if (settings.LogoUrl is { } logo && !IsHttpsOrLocal(logo))
        {
            errors.Add($"{path}:LogoUrl: must be an absolute https URL (\"https://cdn.example.com/logo.svg\") or a path on this server (\"/logo.svg\").");
        }

        if (settings.Name is { } name && string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{path}:Name is empty; leave it out for \"{DefaultName}\".");
        }

        return new Branding(
            string.IsNullOrWhiteSpace(settings.Name) ? DefaultName : settings.Name.Trim(),
            settings.LogoUrl,
            color.ToLowerInvariant(),
            string.IsNullOrWhiteSpace(settings.FooterText) ? null : settings.FooterText.Trim());
    }

    private static bool IsHttpsOrLocal(string url)
    {
        if (url.StartsWith('/'))
        {
            // "//host" and "/\host" are other hosts to a browser.
            return url.Length == 1 || (url[1] != '/' && url[1] != '\\');
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps;
    }

    [GeneratedRegex("^#[0-9a-fA-F]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex HexColor();
}
