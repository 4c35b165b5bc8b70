using System.Text.Json.Nodes;
using Castellan.Storage.EntityFramework;
using Castellan.Stores;

namespace Castellan.Host.Admin;

/// <summary>One kind of configuration item the admin commands manage: its names, where it is kept, how it is listed.</summary>
internal abstract class AdminKind
{
    /// <summary>The command, e.g. <c>clients</c>.</summary>
    public required string Command { get; init; }

    /// <summary>How messages name one, e.g. <c>client</c>.</summary>
    public required string Noun { get; init; }

    /// <summary><see cref="Noun"/> to begin a sentence with.</summary>
    public string Title => char.ToUpperInvariant(Noun[0]) + Noun[1..];

    /// <summary>The list in the configuration file's <c>Castellan</c> section, e.g. <c>Clients</c>.</summary>
    public required string Section { get; init; }

    /// <summary>The identifying property, e.g. <c>ClientId</c>.</summary>
    public required string IdProperty { get; init; }

    public abstract JsonArray ToJsonArray(ConfigurationSnapshot snapshot);

    public abstract int Count(ConfigurationSnapshot snapshot);

    /// <summary>The ids of <paramref name="items"/> that the configuration file defines.</summary>
    public abstract IEnumerable<string> DefinedInCode(ConfigurationSnapshot items, InMemoryConfiguration inCode);

    /// <summary><paramref name="current"/> with each of <paramref name="items"/> added, or in place of the one with its id.</summary>
    public abstract (ConfigurationSnapshot Result, int Added, int Replaced) Merge(ConfigurationSnapshot current, ConfigurationSnapshot items);
}

internal sealed class AdminKind<T> : AdminKind where T : class, new()
{
    public required Func<T, string> Id { get; init; }

    /// <summary>The option of <c>add</c> that gives the id, e.g. <c>--client-id</c>.</summary>
    public required string IdOption { get; init; }

    public required Action<T, string> SetId { get; init; }

    /// <summary>The convenience options of <c>add</c> and <c>update</c>; new ones for each command tree.</summary>
    public Func<IReadOnlyList<ItemOption<T>>> CreateOptions { get; init; } = () => [];

    public required Func<ConfigurationSnapshot, IReadOnlyList<T>> Stored { get; init; }

    public required Func<ConfigurationSnapshot, IReadOnlyList<T>, ConfigurationSnapshot> WithStored { get; init; }

    public required Func<InMemoryConfiguration, IReadOnlyList<T>> InCode { get; init; }

    public required Func<EntityFrameworkConfigurationStore, T, CancellationToken, Task> SaveAsync { get; init; }

    /// <returns>Whether it existed.</returns>
    public required Func<EntityFrameworkConfigurationStore, string, CancellationToken, Task<bool>> RemoveAsync { get; init; }

    /// <summary>The columns of <c>list</c>, after the id.</summary>
    public required IReadOnlyList<(string Header, Func<T, string> Value)> Columns { get; init; }

    /// <summary>The secrets <c>show</c> lists (redacted), if this kind has any.</summary>
    public Func<T, ICollection<Secret>>? Secrets { get; init; }

    public T? FindStored(ConfigurationSnapshot snapshot, string id) => Stored(snapshot).FirstOrDefault(i => Id(i) == id);

    public T? FindInCode(InMemoryConfiguration configuration, string id) => InCode(configuration).FirstOrDefault(i => Id(i) == id);

    /// <summary><paramref name="snapshot"/> with <paramref name="item"/> added, or in place of the one with its id.</summary>
    public ConfigurationSnapshot With(ConfigurationSnapshot snapshot, T item)
        => WithStored(snapshot, [.. Stored(snapshot).Where(i => Id(i) != Id(item)), item]);

    public ConfigurationSnapshot Without(ConfigurationSnapshot snapshot, string id)
        => WithStored(snapshot, [.. Stored(snapshot).Where(i => Id(i) != id)]);

    public override JsonArray ToJsonArray(ConfigurationSnapshot snapshot) => [.. Stored(snapshot).Select(i => (JsonNode)ConfigurationJson.ToJson(i))];

    public override int Count(ConfigurationSnapshot snapshot) => Stored(snapshot).Count;

    public override IEnumerable<string> DefinedInCode(ConfigurationSnapshot items, InMemoryConfiguration inCode)
        => Stored(items).Select(Id).Where(id => FindInCode(inCode, id) is not null);

    public override (ConfigurationSnapshot Result, int Added, int Replaced) Merge(ConfigurationSnapshot current, ConfigurationSnapshot items)
    {
        var (result, added, replaced) = (current, 0, 0);
        foreach (var item in Stored(items))
        {
            if (FindStored(result, Id(item)) is null)
            {
                added++;
            }
            else
            {
                replaced++;
            }

            result = With(result, item);
        }

        return (result, added, replaced);
    }
}

internal static class AdminKinds
{
    public static readonly AdminKind<Client> Clients = new()
    {
        Command = "clients",
        Noun = "client",
        Section = "Clients",
        IdProperty = nameof(Client.ClientId),
        Id = c => c.ClientId,
        IdOption = "--client-id",
        SetId = (c, id) => c.ClientId = id,
        CreateOptions = () =>
        [
            ItemOptions.Text<Client>("--client-name", "ClientName: shown on the consent page.", (c, v) => c.ClientName = v),
            ItemOptions.List<Client>("--grant-types", "AllowedGrantTypes, e.g. client_credentials or authorization_code,refresh_token.", c => c.AllowedGrantTypes),
            ItemOptions.List<Client>("--auth-methods", "AllowedAuthenticationMethods, e.g. client_secret_basic; empty: what the client's secrets imply.", c => c.AllowedAuthenticationMethods),
            ItemOptions.List<Client>("--scopes", "AllowedScopes.", c => c.AllowedScopes),
            ItemOptions.List<Client>("--redirect-uris", "RedirectUris (authorization_code).", c => c.RedirectUris),
            ItemOptions.List<Client>("--post-logout-redirect-uris", "PostLogoutRedirectUris.", c => c.PostLogoutRedirectUris),
            ItemOptions.Flag<Client>("--public", "A public client (RequireClientSecret false): no secret, e.g. a browser or native app using PKCE. `--public false` makes it confidential again.", (c, v) => c.RequireClientSecret = !v),
            ItemOptions.Choice<Client, AccessTokenType>("--access-token-type", "AccessTokenType.", (c, v) => c.AccessTokenType = v),
            ItemOptions.Flag<Client>("--enabled", "Enabled: `--enabled false` disables the client: it gets no tokens, and introspection answers inactive for those it has.", (c, v) => c.Enabled = v),
        ],
        Stored = s => s.Clients,
        WithStored = (s, items) => s with { Clients = items },
        InCode = c => c.Clients,
        SaveAsync = (store, c, ct) => store.SaveClientAsync(c, ct),
        RemoveAsync = (store, id, ct) => store.RemoveClientAsync(id, ct),
        Columns =
        [
            ("name", c => c.ClientName ?? ""),
            ("enabled", c => Yes(c.Enabled)),
            ("grant types", c => string.Join(' ', c.AllowedGrantTypes)),
            ("scopes", c => string.Join(' ', c.AllowedScopes)),
            ("secrets", c => c.RequireClientSecret ? c.ClientSecrets.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "public"),
        ],
        Secrets = c => c.ClientSecrets,
    };

    public static readonly AdminKind<ApiScope> ApiScopes = new()
    {
        Command = "scopes",
        Noun = "API scope",
        Section = "ApiScopes",
        IdProperty = nameof(ApiScope.Name),
        Id = s => s.Name,
        IdOption = "--name",
        SetId = (s, id) => s.Name = id,
        CreateOptions = () =>
        [
            ItemOptions.Text<ApiScope>("--display-name", "DisplayName: shown on the consent page.", (s, v) => s.DisplayName = v),
            ItemOptions.List<ApiScope>("--user-claims", "UserClaims: user claim types that access tokens with this scope carry.", s => s.UserClaims),
            ItemOptions.Flag<ApiScope>("--enabled", "Enabled.", (s, v) => s.Enabled = v),
        ],
        Stored = s => s.ApiScopes,
        WithStored = (s, items) => s with { ApiScopes = items },
        InCode = c => c.ApiScopes,
        SaveAsync = (store, s, ct) => store.SaveApiScopeAsync(s, ct),
        RemoveAsync = (store, id, ct) => store.RemoveApiScopeAsync(id, ct),
        Columns =
        [
            ("display name", s => s.DisplayName ?? ""),
            ("enabled", s => Yes(s.Enabled)),
            ("user claims", s => string.Join(' ', s.UserClaims)),
        ],
    };

    public static readonly AdminKind<ApiResource> ApiResources = new()
    {
        Command = "resources",
        Noun = "API resource",
        Section = "ApiResources",
        IdProperty = nameof(ApiResource.Name),
        Id = r => r.Name,
        IdOption = "--name",
        SetId = (r, id) => r.Name = id,
        CreateOptions = () =>
        [
            ItemOptions.Text<ApiResource>("--display-name", "DisplayName.", (r, v) => r.DisplayName = v),
            ItemOptions.List<ApiResource>("--scopes", "Scopes: the API scopes of this API (each must be an API scope).", r => r.Scopes),
            ItemOptions.List<ApiResource>("--user-claims", "UserClaims: user claim types its access tokens carry.", r => r.UserClaims),
            ItemOptions.Flag<ApiResource>("--enabled", "Enabled.", (r, v) => r.Enabled = v),
        ],
        Stored = s => s.ApiResources,
        WithStored = (s, items) => s with { ApiResources = items },
        InCode = c => c.ApiResources,
        SaveAsync = (store, r, ct) => store.SaveApiResourceAsync(r, ct),
        RemoveAsync = (store, id, ct) => store.RemoveApiResourceAsync(id, ct),
        Columns =
        [
            ("display name", r => r.DisplayName ?? ""),
            ("enabled", r => Yes(r.Enabled)),
            ("scopes", r => string.Join(' ', r.Scopes)),
            ("secrets", r => r.ApiSecrets.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ],
        Secrets = r => r.ApiSecrets,
    };

    public static readonly AdminKind<IdentityResource> IdentityResources = new()
    {
        Command = "identity-resources",
        Noun = "identity resource",
        Section = "IdentityResources",
        IdProperty = nameof(IdentityResource.Name),
        Id = r => r.Name,
        IdOption = "--name",
        SetId = (r, id) => r.Name = id,
        CreateOptions = () =>
        [
            ItemOptions.Text<IdentityResource>("--display-name", "DisplayName: shown on the consent page.", (r, v) => r.DisplayName = v),
            ItemOptions.List<IdentityResource>("--user-claims", "UserClaims: the user claim types this scope releases.", r => r.UserClaims),
            ItemOptions.Flag<IdentityResource>("--required", "Required: the user cannot deselect it on the consent page.", (r, v) => r.Required = v),
            ItemOptions.Flag<IdentityResource>("--enabled", "Enabled.", (r, v) => r.Enabled = v),
        ],
        Stored = s => s.IdentityResources,
        WithStored = (s, items) => s with { IdentityResources = items },
        InCode = c => c.IdentityResources,
        SaveAsync = (store, r, ct) => store.SaveIdentityResourceAsync(r, ct),
        RemoveAsync = (store, id, ct) => store.RemoveIdentityResourceAsync(id, ct),
        Columns =
        [
            ("display name", r => r.DisplayName ?? ""),
            ("enabled", r => Yes(r.Enabled)),
            ("required", r => Yes(r.Required)),
            ("user claims", r => string.Join(' ', r.UserClaims)),
        ],
    };

    /// <summary>In the configuration file's order.</summary>
    public static readonly IReadOnlyList<AdminKind> All = [Clients, ApiScopes, ApiResources, IdentityResources];

    private static string Yes(bool value) => value ? "yes" : "no";
}
