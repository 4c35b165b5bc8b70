namespace Castellan.Keys;

/// <summary>Where automatically managed signing keys are kept. The key material is already encrypted when it gets here.</summary>
public interface ISigningKeyStore
{
    Task<IReadOnlyList<SerializedKey>> LoadKeysAsync(CancellationToken cancellationToken);

    Task StoreKeyAsync(SerializedKey key, CancellationToken cancellationToken);

    Task DeleteKeyAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Held while a node decides whether to create a key and creates it, so that nodes sharing this store create
    /// one successor between them rather than one each. The default does not coordinate (a single node needs
    /// nothing more).
    /// </summary>
    Task<IAsyncDisposable> LockForKeyCreationAsync(CancellationToken cancellationToken)
        => Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A signing key at rest.</summary>
public sealed record SerializedKey
{
    public required string Id { get; init; }

    public required string Algorithm { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>Whether <see cref="Data"/> is encrypted with ASP.NET Core Data Protection.</summary>
    public required bool DataProtected { get; init; }

    /// <summary>The PKCS#8 private key, base64, possibly Data-Protection encrypted.</summary>
    public required string Data { get; init; }
}
