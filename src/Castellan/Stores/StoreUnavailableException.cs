namespace Castellan.Stores;

/// <summary>
/// A store (a database) could not be reached or did not answer in time. The endpoints answer it with 503 and
/// <c>Retry-After</c>, never with a token whose grant was not stored; the request can be repeated as it was.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
        : this("The store is unavailable.")
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
