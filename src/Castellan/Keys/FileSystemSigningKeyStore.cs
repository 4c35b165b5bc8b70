using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Castellan.Keys;

/// <summary>
/// One JSON file per key in a folder. Files are written to a temporary name and moved into place, so a
/// crash never leaves a half-written key behind.
/// </summary>
public sealed class FileSystemSigningKeyStore(string directory, ILogger<FileSystemSigningKeyStore> logger) : ISigningKeyStore
{
    private const string Prefix = "castellan-key-";

    public string Directory { get; } = Path.GetFullPath(directory);

    public async Task<IReadOnlyList<SerializedKey>> LoadKeysAsync(CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var keys = new List<SerializedKey>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*.json"))
        {
            try
            {
                await using var stream = File.OpenRead(file);
                var key = await JsonSerializer.DeserializeAsync(stream, KeyStoreJsonContext.Default.SerializedKey, cancellationToken).ConfigureAwait(false);
                if (key is not null)
                {
                    keys.Add(key);
                }
            }
            catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
            {
                KeyLog.UnreadableKeyFile(logger, file, ex);
            }
        }

        return keys;
    }

    public async Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathFor(key.Id);
        var temp = path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(stream, key, KeyStoreJsonContext.Default.SerializedKey, cancellationToken).ConfigureAwait(false);
        }

        if (!OperatingSystem.IsWindows())
        {
            // Owner-only, like an SSH private key.
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
    }

    public Task DeleteKeyAsync(string id, CancellationToken cancellationToken)
    {
        File.Delete(PathFor(id));
        return Task.CompletedTask;
    }

    private string PathFor(string id)
    {
        // Key ids are generated base64url strings; refuse anything that could escape the folder.
        if (id.Length == 0 || id.AsSpan().IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") >= 0)
        {
            throw new ArgumentException("Invalid key id.", nameof(id));
        }

        return Path.Combine(Directory, Prefix + id + ".json");
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SerializedKey))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class KeyStoreJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
