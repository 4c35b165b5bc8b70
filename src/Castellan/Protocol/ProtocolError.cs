namespace Castellan.Protocol;

/// <summary>
/// A protocol outcome that is not a success: an RFC error code, a description safe to show the caller,
/// and optionally a detail only for the logs.
/// </summary>
internal sealed record ProtocolError(string Error, string? Description = null, string? LogDetail = null)
{
    public static readonly ProtocolError InvalidClient = new(OAuthErrors.InvalidClient, "Client authentication failed.");
    public static readonly ProtocolError UnsupportedGrantType = new(OAuthErrors.UnsupportedGrantType, "The grant type is not supported.");
    public static readonly ProtocolError UnauthorizedClient = new(OAuthErrors.UnauthorizedClient, "The client is not allowed to use this grant type.");
    public static readonly ProtocolError MissingGrantType = new(OAuthErrors.InvalidRequest, "The grant_type parameter is missing.");
    public static readonly ProtocolError ServerError = new(OAuthErrors.ServerError, "The server could not complete the request.");

    /// <summary>A store (the database) is unreachable: 503 with <c>Retry-After</c>; the request can be repeated as it was.</summary>
    public static readonly ProtocolError Unavailable = new(OAuthErrors.TemporarilyUnavailable, "The server is temporarily unavailable; try again shortly.");

    /// <summary>The answer to an exception an endpoint did not expect: <see cref="Unavailable"/> when a store is down, else <see cref="ServerError"/>.</summary>
    public static ProtocolError ForFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Stores.StoreUnavailableException)
            {
                return Unavailable;
            }
        }

        return ServerError;
    }

    public static ProtocolError InvalidRequest(string description, string? logDetail = null) => new(OAuthErrors.InvalidRequest, description, logDetail);

    public static ProtocolError InvalidScope(string description, string? logDetail = null) => new(OAuthErrors.InvalidScope, description, logDetail);
}

/// <summary>Either a value or a <see cref="ProtocolError"/>; protocol paths return this instead of throwing.</summary>
internal readonly struct Outcome<T> where T : class
{
    public T? Value { get; }

    public ProtocolError? Error { get; }

    public Outcome(T value)
        : this(value, null)
    {
    }

    private Outcome(T? value, ProtocolError? error)
    {
        Value = value;
        Error = error;
    }

    public bool IsError => Error is not null;

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(ProtocolError error) => new(null, error);
}
