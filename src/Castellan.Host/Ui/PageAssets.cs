using System.Security.Cryptography;
using System.Text;

namespace Castellan.Host.Ui;

/// <summary>
/// The pages' style sheet and their one script, inlined and allowed by hash (a CSP Level 3 hash-source). Inline assets work
/// whatever the content root or publish layout, need no static-file middleware beside the protocol endpoints, and
/// the branding colour becomes part of the style sheet without allowing any other inline style.
/// </summary>
internal sealed class PageAssets
{
    public PageAssets(Branding branding)
    {
        // Branding.Read accepts only #rrggbb, so the colour cannot close the rule.
        Css = $":root{{--primary:{branding.PrimaryColor}}}\n" + Resource("site.css");
        SignedOutScript = Resource("signed-out.js");
        StyleHash = Hash(Css);
        ScriptHash = Hash(SignedOutScript);
    }

    /// <summary>The content of the pages' <c>&lt;style&gt;</c> element, exactly as hashed.</summary>
    public string Css { get; }

    /// <summary>Follows the logged-out page's link back to the client once the front-channel iframes have loaded.</summary>
    public string SignedOutScript { get; }

    /// <summary>A CSP source expression, e.g. <c>'sha256-...'</c>.</summary>
    public string StyleHash { get; }

    public string ScriptHash { get; }

    private static string Hash(string content) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(content)))}'";

    private static string Resource(string name)
    {
        using var stream = typeof(PageAssets).Assembly.GetManifestResourceStream("Castellan.Host.Ui." + name)
                           ?? throw new InvalidOperationException($"The embedded resource {name} is missing from the host assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().Trim();
    }
}
