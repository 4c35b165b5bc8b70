using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Castellan.Keys;

/// <summary>
/// One JSON file per key in a folder. Files are written to a temporary name and moved into place, so a
/// crash never leaves a half-written key behind. Nodes sharing the folder take turns creating keys through an
/// exclusive lock on a file in it. On Unix the folder is created owner-only (0700) and every file in it
/// owner-only (0600) from the moment it exists, like an SSH key folder.
/// </summary>
public sealed class FileSystemSigningKeyStore(string directory, ILogger<FileSystemSigningKeyStore> logger) : ISigningKeyStore
{
    private const string Prefix = "castellan-key-";
    private const string LockFileName = ".castellan-keys.lock";

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

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
        IEnumerable<string> files;
        try
        {
            files = System.IO.Directory.GetFiles(Directory, Prefix + "*.json");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': the key folder could not be listed ({ex.Message}).", ex);
        }

        foreach (var file in files)
        {
            // A planted, damaged or half-copied file is skipped with an error; it never stops the others from loading
            // or the rotation from going on.
            try
            {
                SerializedKey? key;
                await using (var stream = File.OpenRead(file))
                {
                    key = await JsonSerializer.DeserializeAsync(stream, KeyStoreJsonContext.Default.SerializedKey, cancellationToken).ConfigureAwait(false);
                }

                if (Rejection(key, file) is { } reason)
                {
                    KeyLog.KeyFileRejected(logger, file, reason);
                    continue;
                }

                keys.Add(key!);
            }
            catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                KeyLog.UnreadableKeyFile(logger, file, ex);
            }
        }

        return keys;
    }

    /// <summary>Why a parsed file is not a key of this store, or null when it is one.</summary>
    private static string? Rejection(SerializedKey? key, string file)
    {
        if (key is null || key.Id is null || key.Algorithm is null || key.Data is null)
        {
            return "it lacks Id, Algorithm or Data";
        }

        if (!IsValidId(key.Id))
        {
            return "its Id is not a key id this server generates";
        }

        // The name is the id: a copy or a relabelled file under another name is not the key its name says.
        if (!string.Equals(Path.GetFileName(file), Prefix + key.Id + ".json", StringComparison.Ordinal))
        {
            return "its file name does not match its Id";
        }

        if (!SigningAlgorithms.IsSupported(key.Algorithm))
        {
            return $"its Algorithm '{Safe(key.Algorithm)}' is not one Castellan signs with";
        }

        return null;
    }

    public async Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken)
    {
        CreateFolder();
        var path = PathFor(key.Id);
        var temp = path + ".tmp";
        try
        {
            // A leftover temporary file (a crash) keeps whatever mode it had: start from a new one.
            File.Delete(temp);
            await using (var stream = new FileStream(temp, OwnerOnly(FileMode.CreateNew, FileAccess.Write)))
            {
                await JsonSerializer.SerializeAsync(stream, key, KeyStoreJsonContext.Default.SerializedKey, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': the new key could not be written to '{path}' ({ex.Message}).", ex);
        }
    }

    public async Task<IAsyncDisposable> LockForKeyCreationAsync(CancellationToken cancellationToken)
    {
        CreateFolder();
        var path = Path.Combine(Directory, LockFileName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an OS-level exclusive lock (flock on Unix), released by the OS if the holder
                // dies, so a crashed node cannot block the others. The file itself is left in place: deleting it
                // while another node waits would let two nodes hold "the" lock on different files.
                return new FileStream(path, OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite));
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': the key creation lock '{path}' could not be opened ({ex.Message}).", ex);
            }
            catch (IOException) when (waited.Elapsed < LockTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': another process has held the key creation lock '{path}' for over {LockTimeout.TotalSeconds:F0} seconds, or it cannot be opened ({ex.Message}).", ex);
            }
        }
    }

    public Task DeleteKeyAsync(string id, CancellationToken cancellationToken)
    {
        var path = PathFor(id);
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': the key file '{path}' could not be deleted ({ex.Message}).", ex);
        }

        return Task.CompletedTask;
    }

    private void CreateFolder()
    {
        try
        {
            CreateOwnerOnlyDirectory(Directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KeyStoreException($"KeyManagement.KeyPath '{Directory}': the key folder could not be created ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// Creates a folder (and any missing parents) owner-only (0700) on Unix. The mode is given at creation, so there
    /// is no moment at which the folder is open to others. An existing folder keeps its mode.
    /// </summary>
    internal static void CreateOwnerOnlyDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
        }
        else
        {
            System.IO.Directory.CreateDirectory(path, OwnerOnlyFolder);
        }
    }

    /// <summary>File options that create the file owner-only (0600) on Unix, rather than chmod-ing it afterwards.</summary>
    private static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, BufferSize = 1 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        return options;
    }

    private string PathFor(string id)
    {
        // Refuse anything that could escape the folder.
        if (!IsValidId(id))
        {
            throw new ArgumentException("Invalid key id.", nameof(id));
        }

        return Path.Combine(Directory, Prefix + id + ".json");
    }

    /// <summary>Key ids are generated base64url strings (128 bits: 22 characters).</summary>
    internal static bool IsValidId(string id)
        => id.Length is > 0 and <= 64 && id.AsSpan().IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    private static string Safe(string value)
        => value.Length <= 32 && value.AsSpan().IndexOfAnyExceptInRange(' ', '~') < 0 ? value : "(unprintable)";
}

/// <summary>The key store could not do what it was asked (folder missing rights, disk full, lock held): the message names the setting and the operation.</summary>
public sealed class KeyStoreException(string message, Exception? inner = null) : IOException(message, inner);

// Nullable annotations are enforced, so a file with a null Id or Data is a JSON error, not a null reference later.
[System.Text.Json.Serialization.JsonSerializable(typeof(SerializedKey))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, RespectNullableAnnotations = true)]
internal sealed partial class KeyStoreJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
