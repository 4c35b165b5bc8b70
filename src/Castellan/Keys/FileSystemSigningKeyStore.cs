using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Castellan.Keys;

/// <summary>
/// One JSON file per key in a folder. Files are written to a temporary name and moved into place, so a
/// crash never leaves a half-written key behind. Nodes sharing the folder take turns creating keys through an
/// exclusive lock on a file in it.
/// </summary>
public sealed class FileSystemSigningKeyStore(string directory, ILogger<FileSystemSigningKeyStore> logger) : ISigningKeyStore
{
    private const string Prefix = "castellan-key-";
    private const string LockFileName = ".castellan-keys.lock";

    /// <summary>How long to wait for another node's key creation (a few RSA key generations) before giving up.</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

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

    public async Task<IAsyncDisposable> LockForKeyCreationAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, LockFileName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an OS-level exclusive lock (flock on Unix), released by the OS if the holder
                // dies, so a crashed node cannot block the others. The file itself is left in place: deleting it
                // while another node waits would let two nodes hold "the" lock on different files.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new IOException($"Another process has held the key creation lock '{path}' for over {LockTimeout.TotalSeconds:F0} seconds.", ex);
            }
        }
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
