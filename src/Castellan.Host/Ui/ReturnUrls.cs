using Castellan.Interaction;

namespace Castellan.Host.Ui;

/// <summary>Where a page may send the browser: only into a pending authorization, so the pages never become an open redirector.</summary>
internal static class ReturnUrls
{
    /// <returns>
    /// <paramref name="returnUrl"/> when the engine issued it (<see cref="ICastellanInteraction.IsValidReturnUrl"/>)
    /// and it stays on this server, else null. Both: a return URL is local by contract, and a local-only check here
    /// holds even if an engine accepted more.
    /// </returns>
    public static string? Valid(ICastellanInteraction interaction, string? returnUrl)
        => !string.IsNullOrEmpty(returnUrl) && IsLocal(returnUrl) && interaction.IsValidReturnUrl(returnUrl) ? returnUrl : null;

    /// <summary>
    /// A path on this server: "/" followed by anything but "/" or "\" (which browsers read as another host), and no
    /// control characters (which browsers drop, turning "/\t/evil" into "//evil").
    /// </summary>
    public static bool IsLocal(string url)
    {
        if (url.Length == 0 || url[0] != '/')
        {
            return false;
        }

        if (url.Length > 1 && url[1] is '/' or '\\')
        {
            return false;
        }

        foreach (var c in url)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="uri"/> may be a link's or an iframe's target: absolute, and never a script or data scheme.</summary>
    public static bool IsNavigable(string? uri) => uri is not null && CspSource.FromUri(uri) is not null;
}
