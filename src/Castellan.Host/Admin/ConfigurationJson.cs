using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Castellan.Stores;
using Microsoft.Extensions.FileProviders;

namespace Castellan.Host.Admin;

/// <summary>
/// Clients, scopes and resources in the host's configuration-file format (<c>{ "Castellan": { "Clients": [ ... ] } }</c>,
/// the model's property names, enums by name), written by the admin commands and read back with the server's own
/// loader, so a file or an item gets exactly the errors the server would give it.
/// </summary>
internal static class ConfigurationJson
{
    /// <summary>Secrets as <c>sha256:BASE64</c>, which the loader takes as already hashed: an export imports to the same secrets.</summary>
    private static readonly JsonSerializerOptions FileFormat = Options(redact: false);

    /// <summary>Secrets as their description and expiration only, for showing.</summary>
    private static readonly JsonSerializerOptions Redacted = Options(redact: true);

    private static readonly JsonSerializerOptions Printing = new()
    {
        WriteIndented = true,

        // Read by people and by the loader, never embedded in HTML: '+' in a hash stays '+'.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static JsonSerializerOptions Options(bool redact) => new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(), new SecretConverter(redact) },
    };

    public static JsonObject ToJson<T>(T item, bool redact = false)
        => JsonSerializer.SerializeToNode(item, redact ? Redacted : FileFormat)!.AsObject();

    public static string Print(JsonNode node) => node.ToJsonString(Printing);

    /// <summary>The database's clients, scopes and resources as a configuration file.</summary>
    public static string Export(ConfigurationSnapshot snapshot)
    {
        var section = new JsonObject();
        foreach (var kind in AdminKinds.All)
        {
            section[kind.Section] = kind.ToJsonArray(snapshot);
        }

        return Print(new JsonObject { [HostConfiguration.SectionName] = section });
    }

    /// <summary>
    /// A file in the configuration-file format, read as the server reads its <c>--config</c> file; also the names of
    /// the server settings in its section, which the database does not keep.
    /// </summary>
    /// <exception cref="CastellanConfigurationException">What the server would report about the file.</exception>
    public static (ConfigurationSnapshot Items, IReadOnlyList<string> Ignored) ReadFile(string path)
    {
        var full = Path.GetFullPath(path);
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonFile(full, optional: false, reloadOnChange: false).Build();
        }
        catch (InvalidDataException ex)
        {
            throw new AdminException($"{full} is not valid JSON: {ex.InnerException?.Message ?? ex.Message}");
        }

        var loaded = Load(configuration, full);
        var ignored = configuration.GetSection(HostConfiguration.SectionName).GetChildren().Select(c => c.Key)
            .Where(k => !AdminKinds.All.Any(kind => string.Equals(kind.Section, k, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        return (ToSnapshot(loaded), ignored);
    }

    /// <summary>One entry of the file's <paramref name="section"/> list, read with the server's loader; errors name it <paramref name="noun"/>.</summary>
    /// <exception cref="AdminException">What the server would report about it.</exception>
    public static ConfigurationSnapshot ReadItem(JsonObject item, string section, string noun)
    {
        var document = new JsonObject { [HostConfiguration.SectionName] = new JsonObject { [section] = new JsonArray(item.DeepClone()) } };
        using var stream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(document));
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();
        try
        {
            return ToSnapshot(Load(configuration, configFile: null));
        }
        catch (CastellanConfigurationException ex)
        {
            var path = $"{HostConfiguration.SectionName}:{section}:0";
            throw new AdminException($"The {noun} is not valid:" + Environment.NewLine
                                     + AdminSession.Bullets(ex.Errors.Select(e => e.Replace(path, noun, StringComparison.OrdinalIgnoreCase))));
        }
    }

    /// <summary>Parses <c>--json</c> text or a <c>--file</c>'s content: one JSON object.</summary>
    public static JsonObject ParseObject(string text, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new AdminException($"{source} is not valid JSON: {ex.Message}");
        }

        return node as JsonObject ?? throw new AdminException($"{source} must be one JSON object ({{ ... }}), the shape of one entry of the configuration file's list.");
    }

    /// <summary>
    /// <paramref name="current"/> with the properties of <paramref name="changes"/> in place of its own (names compared
    /// as the configuration binder compares them, ignoring case): what is left out keeps its value.
    /// </summary>
    public static JsonObject Overlay(JsonObject current, JsonObject changes)
    {
        var result = current.DeepClone().AsObject();
        foreach (var (name, value) in changes)
        {
            foreach (var existing in result.Select(p => p.Key).Where(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                result.Remove(existing);
            }

            result[name] = value?.DeepClone();
        }

        return result;
    }

    /// <summary>
    /// The server's loader: schema check, secrets hashed. Only the model is read: in the Development environment, the
    /// server-only requirements (an IssuerUri) stay out of it, and a file that configures nothing comes back as the
    /// demo (<see cref="HostConfiguration.Loaded.IsDemo"/>), which callers take as empty.
    /// </summary>
    private static HostConfiguration.Loaded Load(IConfiguration configuration, string? configFile)
        => HostConfiguration.Load(configuration, ModelOnlyEnvironment.Instance, configFile);

    private static ConfigurationSnapshot ToSnapshot(HostConfiguration.Loaded loaded) => loaded.IsDemo
        ? new ConfigurationSnapshot { Version = 0 }
        : new ConfigurationSnapshot
        {
            Version = 0,
            Clients = loaded.Clients,
            ApiScopes = loaded.ApiScopes,
            ApiResources = loaded.ApiResources,
            IdentityResources = loaded.IdentityResources,
        };

    private sealed class ModelOnlyEnvironment : IHostEnvironment
    {
        public static readonly ModelOnlyEnvironment Instance = new();

        public string EnvironmentName { get; set; } = Environments.Development;

        public string ApplicationName { get; set; } = "Castellan.Host";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    private sealed class SecretConverter(bool redact) : JsonConverter<Secret>
    {
        public override Secret Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("Secrets are read by the configuration loader.");

        public override void Write(Utf8JsonWriter writer, Secret value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            if (value.Type != SecretTypes.SharedSecret)
            {
                writer.WriteString(nameof(Secret.Type), value.Type);
            }

            if (!redact)
            {
                // A shared secret as its hash, marked so that loading it again does not hash it twice; keys and
                // certificate names as they are; an HmacSecret as it is too, for the server needs it whole (an
                // export holds it in the clear, as the host's configuration file does).
                writer.WriteString(nameof(Secret.Value), value.Type == SecretTypes.SharedSecret ? Secret.Sha256Prefix + value.Value : value.Value);
            }

            if (value.Expiration is { } expiration)
            {
                writer.WriteString(nameof(Secret.Expiration), expiration);
            }

            if (value.Description is { } description)
            {
                writer.WriteString(nameof(Secret.Description), description);
            }

            writer.WriteEndObject();
        }
    }
}
