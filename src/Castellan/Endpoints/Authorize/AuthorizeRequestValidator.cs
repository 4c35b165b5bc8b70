using System.Collections.Frozen;
using System.Globalization;
using Castellan.Clients;
using Castellan.Pkce;
using Castellan.Protocol;
using Castellan.Resources;
using Castellan.Security;
using Castellan.Stores;
using Castellan.Tokens;
using Microsoft.Extensions.Options;

namespace Castellan.Endpoints.Authorize;

/// <summary>
/// RFC 6749 §4.1.1 and OIDC Core §3.1.2.1-2, in the order that decides where errors go: until the client and its
/// redirect URI are known good (§4.1.2.1), every failure is shown on the error page and never redirected; after
/// that, errors go back to the client with <c>state</c> and <c>iss</c>.
/// </summary>
internal sealed class AuthorizeRequestValidator(IClientStore clients, IdTokenHintValidator hints, IOptions<CastellanOptions> options)
{
    private static readonly FrozenSet<string> Repeatable = FrozenSet.Create(StringComparer.Ordinal, OAuthParameters.Resource);
    private static readonly FrozenSet<string> PromptValuesSupported = FrozenSet.Create(StringComparer.Ordinal,
        PromptValues.None, PromptValues.Login, PromptValues.Consent, PromptValues.SelectAccount);

    private static readonly ProtocolError UnknownClient = new(OAuthErrors.UnauthorizedClient, "The client is unknown or disabled.");
    private static readonly ProtocolError MissingClientId = ProtocolError.InvalidRequest("The client_id parameter is missing.");
    private static readonly ProtocolError MissingRedirectUri = ProtocolError.InvalidRequest("The redirect_uri parameter is missing.");
    private static readonly ProtocolError UnregisteredRedirectUri = ProtocolError.InvalidRequest("The redirect_uri is not registered for this client.");
    private static readonly ProtocolError NoCodeFlow = new(OAuthErrors.UnauthorizedClient, "The client is not allowed to use the authorization code flow.");

    private readonly InputLengthRestrictions _limits = options.Value.InputLengthRestrictions;

    public async ValueTask<(ValidatedAuthorizeRequest? Request, AuthorizeError? Error)> ValidateAsync(
        AuthorizeParameters parameters, string issuer, ResourceIndex resources, CancellationToken cancellationToken)
    {
        // 1. The client: without a known client nothing may be redirected anywhere.
        if (parameters.IsRepeated(OAuthParameters.ClientId) || parameters.IsRepeated(OAuthParameters.RedirectUri))
        {
            return Page(ProtocolError.InvalidRequest("The client_id or redirect_uri parameter was sent more than once."));
        }

        var clientId = parameters.Get(OAuthParameters.ClientId);
        if (clientId is null)
        {
            return Page(MissingClientId);
        }

        if (clientId.Length > _limits.ClientId)
        {
            return Page(ProtocolError.InvalidRequest("The client_id parameter is too long."));
        }

        var client = await clients.FindClientByIdAsync(clientId, cancellationToken).ConfigureAwait(false);
        if (client is null || !client.Enabled)
        {
            return Page(UnknownClient);
        }

        // 2. The redirect URI: exactly one the client registered (RFC 9700 §4.1.3). OIDC Core §3.1.2.1 requires it.
        var redirectUri = parameters.Get(OAuthParameters.RedirectUri);
        if (redirectUri is null)
        {
            return Page(MissingRedirectUri);
        }

        if (redirectUri.Length > _limits.RedirectUri || !RedirectUris.Matches(redirectUri, client.RedirectUris))
        {
            return Page(UnregisteredRedirectUri);
        }

        // 3. The response mode, before any error is sent with it. An unusable one is reported in the default mode.
        var state = parameters.Get(OAuthParameters.State);
        var modeValue = parameters.Get(OAuthParameters.ResponseMode);
        var mode = modeValue switch
        {
            null => ResponseModes.Query,
            ResponseModes.Query or ResponseModes.Fragment or ResponseModes.FormPost => modeValue,
            _ => null,
        };
        var redirect = new AuthorizeRedirect(redirectUri, mode ?? ResponseModes.Query, state is { Length: var l } && l <= _limits.State ? state : null);
        if (state is not null && state.Length > _limits.State)
        {
            return Back(ProtocolError.InvalidRequest("The state parameter is too long."), redirect);
        }

        if (mode is null || parameters.IsRepeated(OAuthParameters.ResponseMode))
        {
            return Back(ProtocolError.InvalidRequest("The response_mode must be query, fragment or form_post."), redirect);
        }

        foreach (var (name, values) in parameters.Values)
        {
            if (values.Length > 1 && !Repeatable.Contains(name))
            {
                // RFC 6749 §3.1: request parameters MUST NOT be included more than once.
                return Back(ProtocolError.InvalidRequest($"The parameter '{FormRequestParser.SafeName(name)}' was sent more than once."), redirect);
            }
        }

        // 4. What is asked for.
        var responseType = parameters.Get(OAuthParameters.ResponseType);
        if (responseType is null)
        {
            return Back(ProtocolError.InvalidRequest("The response_type parameter is missing."), redirect);
        }

        if (responseType != "code")
        {
            // Implicit and hybrid flows are refused (RFC 9700 §2.1.2): tokens never travel in the front channel.
            return Back(new ProtocolError(OAuthErrors.UnsupportedResponseType, "Only response_type 'code' is supported."), redirect);
        }

        if (!client.AllowedGrantTypes.Contains(GrantTypes.AuthorizationCode))
        {
            return Back(NoCodeFlow, redirect);
        }

        // OIDC Core §6: request objects are not supported (yet); say so with the errors the spec defines for it.
        if (parameters.Get(OAuthParameters.Request) is not null)
        {
            return Back(new ProtocolError(OAuthErrors.RequestNotSupported, "Request objects are not supported."), redirect);
        }

        if (parameters.Get(OAuthParameters.RequestUri) is not null)
        {
            return Back(new ProtocolError(OAuthErrors.RequestUriNotSupported, "The request_uri parameter is not supported."), redirect);
        }

        if (parameters.Get(OAuthParameters.Registration) is not null)
        {
            return Back(new ProtocolError(OAuthErrors.RegistrationNotSupported, "The registration parameter is not supported."), redirect);
        }

        var model = ClientModel.For(client);
        var indicators = parameters.All(OAuthParameters.Resource);
        var granted = ScopeValidator.Validate(parameters.Get(OAuthParameters.Scope), indicators, model, resources, issuer,
            _limits.Scope, allowIdentityScopes: true);
        if (granted.IsError)
        {
            return Back(granted.Error!, redirect);
        }

        // 5. PKCE (RFC 7636 §4.4.1; RFC 9700 §2.1.1: S256, required by default).
        var challenge = parameters.Get(OAuthParameters.CodeChallenge);
        if (PkceValidator.ValidateChallenge(challenge, parameters.Get(OAuthParameters.CodeChallengeMethod), client.RequirePkce,
                client.AllowPlainTextPkce, out var challengeMethod) is { } pkceError)
        {
            return Back(pkceError, redirect);
        }

        // RFC 9449 §10: binds the code to the DPoP key the client will redeem it with. A SHA-256 JWK thumbprint is
        // 43 base64url characters; anything else cannot name a key.
        var dpopJkt = parameters.Get(OAuthParameters.DPoPJkt);
        if (dpopJkt is not null && !JwkThumbprint.IsSha256Base64Url(dpopJkt))
        {
            return Back(ProtocolError.InvalidRequest("The dpop_jkt parameter must be the base64url SHA-256 thumbprint of a JWK (RFC 7638)."), redirect);
        }

        var isOpenId = granted.Value!.Scopes.Contains(StandardScopes.OpenId);
        var nonce = parameters.Get(OAuthParameters.Nonce);
        if (nonce is not null && nonce.Length > _limits.Nonce)
        {
            return Back(ProtocolError.InvalidRequest("The nonce parameter is too long."), redirect);
        }

        // 6. OpenID Connect's user-facing parameters.
        var prompt = ParsePrompt(parameters.Get(OAuthParameters.Prompt));
        if (prompt is null)
        {
            return Back(ProtocolError.InvalidRequest("The prompt parameter holds an unknown value, or 'none' with another value."), redirect);
        }

        int? maxAge = null;
        if (parameters.Get(OAuthParameters.MaxAge) is { } maxAgeValue)
        {
            if (maxAgeValue.Length > 10 || !int.TryParse(maxAgeValue, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return Back(ProtocolError.InvalidRequest("The max_age parameter must be a non-negative number of seconds."), redirect);
            }

            maxAge = seconds;
        }

        string? hintSubject = null;
        if (parameters.Get(OAuthParameters.IdTokenHint) is { } hint)
        {
            var validatedHint = hint.Length <= _limits.IdTokenHint ? await hints.ValidateAsync(hint, issuer, cancellationToken).ConfigureAwait(false) : null;
            if (validatedHint is null)
            {
                return Back(ProtocolError.InvalidRequest("The id_token_hint is not a valid id_token of this server."), redirect);
            }

            hintSubject = validatedHint.Subject;
        }

        var loginHint = parameters.Get(OAuthParameters.LoginHint);
        var uiLocales = parameters.Get(OAuthParameters.UiLocales);
        var acrValues = parameters.Get(OAuthParameters.AcrValues);
        if (loginHint?.Length > _limits.LoginHint || uiLocales?.Length > _limits.LoginHint || acrValues?.Length > _limits.LoginHint)
        {
            return Back(ProtocolError.InvalidRequest("The login_hint, ui_locales or acr_values parameter is too long."), redirect);
        }

        return (new ValidatedAuthorizeRequest
        {
            Client = client,
            Model = model,
            Redirect = redirect,
            Parameters = parameters,
            Resources = granted.Value!,
            ResourceIndicators = indicators,
            Nonce = isOpenId ? nonce : null,
            CodeChallenge = challengeMethod is null ? null : challenge,
            CodeChallengeMethod = challengeMethod,
            DPoPKeyThumbprint = dpopJkt,
            Prompt = prompt,
            MaxAge = maxAge,
            HintSubject = hintSubject,
            LoginHint = loginHint,
            UiLocales = uiLocales,
            AcrValues = acrValues,
        }, null);
    }

    /// <summary>OIDC Core §3.1.2.1: space-delimited; <c>none</c> only alone.</summary>
    private static FrozenSet<string>? ParsePrompt(string? value)
    {
        if (value is null)
        {
            return FrozenSet<string>.Empty;
        }

        var values = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (values.Length == 0 || values.Any(v => !PromptValuesSupported.Contains(v))
            || (values.Contains(PromptValues.None) && values.Length > 1))
        {
            return null;
        }

        return values.ToFrozenSet(StringComparer.Ordinal);
    }

    private static (ValidatedAuthorizeRequest?, AuthorizeError?) Page(ProtocolError error) => (null, new AuthorizeError(error, null));

    private static (ValidatedAuthorizeRequest?, AuthorizeError?) Back(ProtocolError error, AuthorizeRedirect redirect) => (null, new AuthorizeError(error, redirect));
}
