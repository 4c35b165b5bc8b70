using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Castellan.Endpoints.Token;
using Castellan.Hosting;
using Castellan.Keys;
using Castellan.Protocol;
using Castellan.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Castellan.Endpoints.Discovery;

/// <summary>
/// <c>/.well-known/openid-configuration</c> (RFC 8414 §3, OpenID Connect Discovery 1.0 §4). Advertises only
/// what this server really does.
/// </summary>
internal sealed class DiscoveryEndpoint(
    IssuerResolver issuerResolver,
    ResourceIndexProvider resources,
    KeyRingProvider keys,
    TokenRequestValidator tokenRequestValidator,
    Clients.Authentication.ClientRequestReader clientMethods,
    Security.DPoPProofValidator dpop,
    MutualTlsAliases aliases,
    IOptions<CastellanOptions> options,
    ILogger<DiscoveryEndpoint> logger)
{
    private readonly CastellanOptions _options = options.Value;
    private readonly string _cacheControl = CacheControl(options.Value.Discovery.ResponseCacheDuration);

    public Task ProcessAsync(HttpContext context) => WellKnown.GuardAsync(context, logger, WriteAsync);

    private async Task WriteAsync(HttpContext context)
    {
        var issuer = issuerResolver.GetIssuer(context);
        var index = await resources.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var ring = await keys.GetAsync(context.RequestAborted).ConfigureAwait(false);

        var response = context.Response;
        response.Headers.CacheControl = _cacheControl;
        WellKnown.VaryByHostWhenInferred(response, issuerResolver);
        var body = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("issuer", issuer);
            var paths = _options.Endpoints;
            foreach (var endpoint in CastellanEndpointDefinitions.All)
            {
                if (endpoint.DiscoveryName is { } member && endpoint.IsEnabled(paths))
                {
                    writer.WriteString(member, IssuerResolver.Url(issuer, endpoint.Path(paths)));
                }
            }

            if (paths.EnableTokenEndpoint)
            {
                WriteArray(writer, "grant_types_supported", tokenRequestValidator.SupportedGrantTypes);

                // RFC 8414 §2: the registered methods. Public clients (none) may use the token and revocation
                // endpoints (RFC 7009 §2.1), not introspection.
                WriteArray(writer, "token_endpoint_auth_methods_supported", clientMethods.Names(includeNone: true));
                WriteAssertionAlgorithms(writer, "token_endpoint_auth_signing_alg_values_supported");

                // RFC 9449 §5.1: the proof algorithms the token endpoint accepts.
                WriteArray(writer, Security.DPoPConstants.SigningAlgorithmsSupported, dpop.SupportedAlgorithms);
            }

            if (paths.EnableIntrospectionEndpoint)
            {
                WriteArray(writer, "introspection_endpoint_auth_methods_supported", clientMethods.Names(includeNone: false));
                WriteAssertionAlgorithms(writer, "introspection_endpoint_auth_signing_alg_values_supported");

                // RFC 9701 §7: introspection responses as signed JWTs.
                WriteArray(writer, "introspection_signing_alg_values_supported", [ring.DefaultAlgorithm]);
            }

            if (paths.EnableTokenRevocationEndpoint)
            {
                WriteArray(writer, "revocation_endpoint_auth_methods_supported", clientMethods.Names(includeNone: true));
                WriteAssertionAlgorithms(writer, "revocation_endpoint_auth_signing_alg_values_supported");
            }

            WriteMutualTls(writer);

            writer.WriteStartArray("scopes_supported");
            var claims = new List<string> { "sub" };
            foreach (var scope in index.Source.IdentityResources)
            {
                if (scope.Enabled && scope.ShowInDiscoveryDocument)
                {
                    writer.WriteStringValue(scope.Name);
                    claims.AddRange(scope.UserClaims.Where(c => !claims.Contains(c)));
                }
            }

            foreach (var scope in index.Source.ApiScopes)
            {
                if (scope.Enabled && scope.ShowInDiscoveryDocument)
                {
                    writer.WriteStringValue(scope.Name);
                }
            }

            if (tokenRequestValidator.SupportedGrantTypes.Contains(GrantTypes.RefreshToken))
            {
                writer.WriteStringValue(StandardScopes.OfflineAccess);
            }

            writer.WriteEndArray();

            // OIDC Discovery §3: claims_supported (the claims the identity resources release).
            WriteArray(writer, "claims_supported", claims);

            if (paths.EnableAuthorizeEndpoint)
            {
                // Only the code flow (RFC 9700 §2.1.2); PKCE with S256 only (§2.1.1), whatever a client allows.
                WriteArray(writer, "response_types_supported", ["code"]);
                WriteArray(writer, "response_modes_supported", [ResponseModes.Query, ResponseModes.Fragment, ResponseModes.FormPost]);
                WriteArray(writer, "code_challenge_methods_supported", [Pkce.PkceValidator.S256]);
                WriteArray(writer, "prompt_values_supported", [PromptValues.None, PromptValues.Login, PromptValues.Consent, PromptValues.SelectAccount]);
                writer.WriteBoolean("authorization_response_iss_parameter_supported", true);
                writer.WriteBoolean("request_parameter_supported", false);
                writer.WriteBoolean("request_uri_parameter_supported", false);
            }
            else
            {
                // RFC 8414 §2 requires response_types_supported; without an authorization endpoint the honest value is empty.
                writer.WriteStartArray("response_types_supported");
                writer.WriteEndArray();
            }

            WriteArray(writer, "subject_types_supported", ["public"]);
            WriteArray(writer, "id_token_signing_alg_values_supported", [ring.DefaultAlgorithm]);

            if (paths.EnableEndSessionEndpoint)
            {
                writer.WriteBoolean("frontchannel_logout_supported", true);
                writer.WriteBoolean("frontchannel_logout_session_supported", true);
                writer.WriteBoolean("backchannel_logout_supported", true);
                writer.WriteBoolean("backchannel_logout_session_supported", true);
            }

            // Algorithms access tokens are signed with (RFC 9068 deployments read the JWKS; this is informative).
            WriteArray(writer, "access_token_signing_alg_values_supported", ring.Algorithms);
            writer.WriteEndObject();
        }

        // The document depends on the issuer (the request's host when IssuerUri is not set), the configuration and
        // the key ring, so its tag is a hash of the bytes: a client revalidating gets 304 until any of them changes.
        var etag = EntityTags.Of(body.WrittenSpan);
        response.Headers.ETag = etag;
        if (WellKnown.IfNoneMatch(context.Request, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
    }


    // RFC 8705 §3.3 and §5: certificate-bound tokens, and where clients send their certificates when that is not the
    // ordinary endpoints (the browser-facing host then never asks a browser for one).
    private void WriteMutualTls(Utf8JsonWriter writer)
    {
        if (!_options.MutualTls.Enabled)
        {
            return;
        }

        writer.WriteBoolean("tls_client_certificate_bound_access_tokens", true);
        if (aliases.BaseUrl is not { } alias)
        {
            return;
        }

        writer.WriteStartObject("mtls_endpoint_aliases");
        foreach (var endpoint in CastellanEndpointDefinitions.All)
        {
            if (endpoint.MutualTlsAlias && endpoint.DiscoveryName is { } member && endpoint.IsEnabled(_options.Endpoints))
            {
                writer.WriteString(member, IssuerResolver.Url(alias, endpoint.Path(_options.Endpoints)));
            }
        }

        writer.WriteEndObject();
    }

    // RFC 8414 §2: the algorithms of the JWT methods (private_key_jwt, client_secret_jwt), when one is registered.
    private void WriteAssertionAlgorithms(Utf8JsonWriter writer, string name)
    {
        var algorithms = clientMethods.Methods.OfType<Clients.Authentication.ClientAssertionMethod>().SelectMany(m => m.Algorithms).Distinct(StringComparer.Ordinal).ToArray();
        if (algorithms.Length > 0)
        {
            WriteArray(writer, name, algorithms);
        }
    }

    private static void WriteArray(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    internal static string CacheControl(TimeSpan duration)
        => "public, max-age=" + ((long)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}

internal static partial class WellKnown
{
    /// <summary>Seconds a caller should wait after a 503 before asking again.</summary>
    private const string RetryAfterSeconds = "30";

    /// <summary>
    /// Runs a metadata endpoint: wrong methods get 405; a store or key failure gets 503 with Retry-After (the
    /// document exists, it just cannot be served now), never a bare 500 and never a cached error.
    /// </summary>
    public static async Task GuardAsync(HttpContext context, ILogger logger, Func<HttpContext, Task> write)
    {
        if (!IsGetOrHead(context))
        {
            return;
        }

        try
        {
            await write(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            LogUnavailable(logger, context.Request.Path.Value ?? "", ex);
            var response = context.Response;
            response.Clear();
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.Headers.RetryAfter = RetryAfterSeconds;
            response.Headers.CacheControl = "no-store";
        }
    }

    /// <summary>
    /// With no configured IssuerUri the document names the request's host, so a shared cache must key it by Host
    /// (RFC 9110 §12.5.5): otherwise one caller's forged Host would be served to everyone.
    /// </summary>
    public static void VaryByHostWhenInferred(HttpResponse response, IssuerResolver issuer)
    {
        if (!issuer.IsConfigured)
        {
            response.Headers.Vary = "Host";
        }
    }

    [LoggerMessage(7000, LogLevel.Error, "Metadata endpoint {Path} could not be served (answered 503); a store or the key ring failed.", EventName = "MetadataEndpointUnavailable")]
    private static partial void LogUnavailable(ILogger logger, string path, Exception exception);

    /// <summary>Metadata endpoints answer GET and HEAD; anything else is 405 with an Allow header.</summary>
    public static bool IsGetOrHead(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return true;
        }

        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = "GET, HEAD";
        return false;
    }

    /// <summary>
    /// RFC 9110 §13.1.2: If-None-Match is "*" or a list of entity tags, compared weakly. An exact string compare
    /// missed lists (as caches send them) and W/ tags, answering 200 where 304 was due.
    /// </summary>
    public static bool IfNoneMatch(HttpRequest request, string etag)
    {
        if (request.Headers.IfNoneMatch.Count == 0)
        {
            return false;
        }

        var current = new EntityTagHeaderValue(etag);
        foreach (var tag in request.GetTypedHeaders().IfNoneMatch)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false))
            {
                return true;
            }
        }

        return false;
    }
}
