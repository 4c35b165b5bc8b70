using System.Text.Json;
using Castellan.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Castellan.Endpoints.Token;

/// <summary>Writes token endpoint responses straight to the body with <see cref="Utf8JsonWriter"/>.</summary>
internal static class TokenResult
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>RFC 6749 §5.1.</summary>
    public static async Task WriteSuccessAsync(HttpResponse response, TokenResponse token, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        SetNoStore(response);
        response.ContentType = "application/json; charset=utf-8";
        using (var writer = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("access_token", token.AccessToken);
            writer.WriteString("token_type", token.TokenType);
            writer.WriteNumber("expires_in", token.ExpiresIn);
            writer.WriteString("scope", token.Scope);
            if (token.RefreshToken is not null)
            {
                writer.WriteString("refresh_token", token.RefreshToken);
            }

            if (token.IdToken is not null)
            {
                writer.WriteString("id_token", token.IdToken);
            }
            writer.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 6749 §5.2: 400, or 401 for <c>invalid_client</c>. The 401 always carries the Basic challenge: §5.2
    /// requires it when the client used the Authorization header, and RFC 9110 §15.5.2 for every 401.
    /// </summary>
    public static Task WriteErrorAsync(HttpResponse response, ProtocolError error, CancellationToken cancellationToken)
    {
        var status = error.Error switch
        {
            OAuthErrors.InvalidClient => StatusCodes.Status401Unauthorized,
            OAuthErrors.ServerError => StatusCodes.Status500InternalServerError,
            OAuthErrors.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status400BadRequest,
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = RetryAfterSeconds;
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"castellan\", charset=\"UTF-8\"";
        }

        return ProtocolErrorWriter.WriteAsync(response, status, error, cancellationToken);
    }

    /// <summary>How soon a client may repeat a request a store outage refused.</summary>
    internal const string RetryAfterSeconds = "5";

    internal static void SetNoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}

/// <summary>The JSON error body shared by the endpoints that answer with RFC 6749 §5.2 errors.</summary>
internal static class ProtocolErrorWriter
{
    public static async Task WriteAsync(HttpResponse response, int status, ProtocolError error, CancellationToken cancellationToken)
    {
        response.StatusCode = status;
        TokenResult.SetNoStore(response);
        response.ContentType = "application/json; charset=utf-8";
        using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            writer.WriteStartObject();
            writer.WriteString("error", error.Error);
            if (error.Description is not null)
            {
                writer.WriteString("error_description", error.Description);
            }

            writer.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
