using Castellan.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
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

    private readonly InputLengthRestrictions _limits;
    private readonly FormOptions _formOptions;

    private readonly string? _repeatable;

    /// <param name="repeatable">The one parameter that may appear more than once (RFC 8707 <c>resource</c>), or null.</param>
    public FormRequestParser(InputLengthRestrictions limits, string? repeatable = null)
    {
        _repeatable = repeatable;
        _limits = limits;
        _formOptions = new FormOptions
        {
            ValueCountLimit = limits.MaxParameterCount,
            KeyLengthLimit = 256,
            ValueLengthLimit = limits.MaxRequestBodySize,
            BufferBody = false,
        };
    }

    public async ValueTask<Outcome<IFormCollection>> ParseAsync(HttpRequest request, CancellationToken cancellationToken)
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
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, _formOptions));
            form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            // Form limits exceeded or malformed encoding.
            return Malformed;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge;
        }
        catch (BadHttpRequestException)
        {
            return Malformed;
        }

        foreach (var parameter in form)
        {
            if (parameter.Value.Count > 1 && !string.Equals(parameter.Key, _repeatable, StringComparison.Ordinal))
            {
                // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
                return ProtocolError.InvalidRequest($"The parameter '{SafeName(parameter.Key)}' was sent more than once.");
            }
        }

        return new Outcome<IFormCollection>(form);
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
    private static string SafeName(string name)
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
