using System.Collections.Frozen;
using System.Text;
using Castellan.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Castellan.Endpoints;

/// <summary>
/// HTTP → form parameters for the POST endpoints (token, introspection, revocation), enforcing RFC 6749 §3.2
/// (POST, <c>application/x-www-form-urlencoded</c>), §3.1/§3.2 (no parameter twice) and the size limits,
/// before anything is looked up.
/// </summary>
internal sealed class FormRequestParser
{
    private static readonly ProtocolError NotPost = ProtocolError.InvalidRequest("This endpoint accepts only POST.");
    private static readonly ProtocolError WrongContentType = ProtocolError.InvalidRequest("The request must be application/x-www-form-urlencoded.");
    private static readonly ProtocolError TooLarge = ProtocolError.InvalidRequest("The request is too large.");
    private static readonly ProtocolError Malformed = ProtocolError.InvalidRequest("The request body is not a valid form.");

    private const int MaxNameLength = 256;

    private readonly InputLengthRestrictions _limits;

    private readonly IReadOnlySet<string> _repeatable;

    /// <param name="repeatable">The parameters that may appear more than once (RFC 8707 <c>resource</c>); none when null.</param>
    public FormRequestParser(InputLengthRestrictions limits, IReadOnlySet<string>? repeatable = null)
    {
        _repeatable = repeatable ?? FrozenSet<string>.Empty;
        _limits = limits;
    }

    /// <param name="keepRepeats">Leave repeated parameters for the caller to judge (the authorize endpoint decides where their error goes).</param>
    public async ValueTask<Outcome<IFormCollection>> ParseAsync(HttpRequest request, CancellationToken cancellationToken, bool keepRepeats = false)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return NotPost;
        }

        if (!IsFormContentType(request.ContentType))
        {
            return WrongContentType;
        }

        if (request.ContentLength > _limits.MaxRequestBodySize)
        {
            return TooLarge;
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            // Also caps chunked bodies, which carry no Content-Length.
            sizeFeature.MaxRequestBodySize = _limits.MaxRequestBodySize;
        }

        IFormCollection form;
        try
        {
            // Not cancelled by RequestAborted: when the caller goes away Kestrel fails the read itself (a reset, handled
            // below), and a caller that sends too slowly is cut off by its minimum data rate, so the read always ends;
            // a cancellation on top would only add a second way for it to end half-way.
            form = await ReadAsync(request.Body, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller went away: the endpoint ends quietly.
            throw;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge;
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own verdict on the framing (bad chunk sizes, a body shorter than its Content-Length): the
            // connection is still there to answer on. BadHttpRequestException is an IOException, so it comes first.
            return Malformed;
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException
                                   || (ex is IOException && cancellationToken.IsCancellationRequested))
        {
            // The connection broke (a reset, a caller gone mid-body). Abort it: Kestrel would otherwise try to drain
            // the rest of the body after the endpoint returns, fail ("the body reader is in an invalid state"), and
            // log that as an error, whatever the endpoint did. The 400 written below goes nowhere.
            request.HttpContext.Abort();
            return Malformed;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException
                                       or OverflowException or DecoderFallbackException or OperationCanceledException)
        {
            // Form limits exceeded, malformed encoding, bad chunking, a truncated body, a reset connection: all
            // the caller's doing, so a 400 (which a gone caller never reads) rather than a server error.
            return Malformed;
        }

        foreach (var parameter in form)
        {
            if (!keepRepeats && parameter.Value.Count > 1 && !_repeatable.Contains(parameter.Key))
            {
                // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
                return ProtocolError.InvalidRequest($"The parameter '{SafeName(parameter.Key)}' was sent more than once.");
            }
        }

        return new Outcome<IFormCollection>(form);
    }

    /// <summary>
    /// Reads the body as a form whose names are compared ordinally: OAuth parameter names are exact
    /// (<c>GRANT_TYPE</c> is not <c>grant_type</c> but an unknown parameter, which RFC 6749 §3.2 says to ignore).
    /// ASP.NET Core's own form collection matches names case-insensitively, so it is not used here.
    /// </summary>
    /// <summary>
    /// The parser for requests browsers send by navigation (authorize, end-session): held to the authorize request
    /// size, not the token endpoint's body limit.
    /// </summary>
    public static FormRequestParser ForBrowserRequests(InputLengthRestrictions limits) => new(new InputLengthRestrictions
    {
        MaxRequestBodySize = limits.MaxAuthorizeRequestSize,
        MaxParameterCount = limits.MaxParameterCount,
    });

    /// <summary>
    /// A GET's query or a POST's form (OIDC Core §3.1.2.1, RP-Initiated Logout §2 accept both), repeats kept for the
    /// caller to judge. Other methods get 405 with <c>Allow: GET, POST</c>.
    /// </summary>
    /// <returns>The parameters, or null when the method is refused (405 written) or the request is malformed or too large.</returns>
    public async ValueTask<IFormCollection?> ParseQueryOrFormAsync(HttpContext context)
    {
        if (!MethodGuard.IsGetOrPost(context))
        {
            return null;
        }

        if (HttpMethods.IsGet(context.Request.Method))
        {
            var query = context.Request.QueryString;
            return query.HasValue ? ParseQuery(query.Value![1..]) : new FormCollection(null);
        }

        var parsed = await ParseAsync(context.Request, context.RequestAborted, keepRepeats: true).ConfigureAwait(false);
        return parsed.IsError ? null : parsed.Value;
    }

    /// <summary>
    /// A query string (without its leading '?') as parameters with ordinal names, under the same limits as a body.
    /// </summary>
    /// <returns>The parameters, or null when the query is too large or malformed.</returns>
    public IFormCollection? ParseQuery(string query)
    {
        if (query.Length > _limits.MaxRequestBodySize)
        {
            return null;
        }

        try
        {
            return Read(query);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException or DecoderFallbackException)
        {
            return null;
        }
    }

    private async Task<IFormCollection> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        using var reader = NewReader(body);
        while (await reader.ReadNextPairAsync(cancellationToken).ConfigureAwait(false) is { } pair)
        {
            Add(fields, pair);
        }

        return new FormCollection(fields);
    }

    private IFormCollection Read(string text)
    {
        var fields = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        using var reader = NewReader(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        while (reader.ReadNextPair() is { } pair)
        {
            Add(fields, pair);
        }

        return new FormCollection(fields);
    }

    private FormReader NewReader(Stream body) => new(body, Encoding.UTF8)
    {
        ValueCountLimit = _limits.MaxParameterCount,
        KeyLengthLimit = MaxNameLength,
        ValueLengthLimit = _limits.MaxRequestBodySize,
    };

    private void Add(Dictionary<string, StringValues> fields, KeyValuePair<string, string> pair)
    {
        if (fields.Count >= _limits.MaxParameterCount && !fields.ContainsKey(pair.Key))
        {
            throw new InvalidDataException("Too many form parameters.");
        }

        // No OAuth parameter name has a control character; a name with one is an attack on whatever logs or
        // echoes names, not a parameter to ignore.
        if (pair.Key.AsSpan().IndexOfAnyInRange('\0', '\x1F') >= 0 || pair.Key.Contains('\x7F', StringComparison.Ordinal))
        {
            throw new InvalidDataException("A parameter name holds a control character.");
        }

        fields[pair.Key] = fields.TryGetValue(pair.Key, out var existing) ? StringValues.Concat(existing, pair.Value) : new StringValues(pair.Value);
    }

    private static bool IsFormContentType(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return false;
        }

        return parsed.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            && (!parsed.Charset.HasValue || parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>error_description may only hold %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2); echo names only if they fit.</summary>
    internal static string SafeName(string name)
    {
        if (name.Length > 64)
        {
            return "(parameter)";
        }

        foreach (var c in name)
        {
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\' || c == '\'')
            {
                return "(parameter)";
            }
        }

        return name;
    }
}
