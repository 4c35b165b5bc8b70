namespace Castellan.Protocol;

/// <summary>Wire names from the specs, defined once.</summary>
internal static class OAuthParameters
{
    public const string GrantType = "grant_type";
    public const string ClientId = "client_id";
    public const string ClientSecret = "client_secret";
    public const string ClientAssertion = "client_assertion";
    public const string ClientAssertionType = "client_assertion_type";
    public const string Scope = "scope";
    public const string Resource = "resource";
    public const string ResponseType = "response_type";
    public const string ResponseMode = "response_mode";
    public const string RedirectUri = "redirect_uri";
    public const string State = "state";
    public const string Code = "code";
    public const string CodeChallenge = "code_challenge";
    public const string CodeChallengeMethod = "code_challenge_method";

    /// <summary>RFC 9449 §10: the thumbprint of the DPoP key the authorization code is bound to.</summary>
    public const string DPoPJkt = "dpop_jkt";
    public const string CodeVerifier = "code_verifier";
    public const string RefreshToken = "refresh_token";
    public const string Username = "username";
    public const string Password = "password";
    public const string AccessToken = "access_token";
    public const string Error = "error";
    public const string ErrorDescription = "error_description";

    /// <summary>RFC 9207 §2: the issuer in every authorization response.</summary>
    public const string Issuer = "iss";

    // OpenID Connect Core 1.0 §3.1.2.1, §6
    public const string Nonce = "nonce";
    public const string Prompt = "prompt";
    public const string MaxAge = "max_age";
    public const string IdTokenHint = "id_token_hint";
    public const string LoginHint = "login_hint";
    public const string UiLocales = "ui_locales";
    public const string AcrValues = "acr_values";
    public const string Display = "display";
    public const string Request = "request";
    public const string RequestUri = "request_uri";
    public const string Registration = "registration";

    // RP-Initiated Logout 1.0 §2
    public const string PostLogoutRedirectUri = "post_logout_redirect_uri";
    public const string LogoutHint = "logout_hint";
}

internal static class ResponseModes
{
    public const string Query = "query";
    public const string Fragment = "fragment";
    public const string FormPost = "form_post";
}

internal static class PromptValues
{
    public const string None = "none";
    public const string Login = "login";
    public const string Consent = "consent";
    public const string SelectAccount = "select_account";
}

internal static class StandardScopes
{
    public const string OpenId = "openid";

    /// <summary>OIDC Core §11: asks for a refresh token.</summary>
    public const string OfflineAccess = "offline_access";
}

/// <summary>RFC 6749 §5.2 error codes.</summary>
internal static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string InvalidScope = "invalid_scope";
    public const string InvalidTarget = "invalid_target";
    public const string ServerError = "server_error";
    public const string AccessDenied = "access_denied";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string TemporarilyUnavailable = "temporarily_unavailable";

    // OpenID Connect Core 1.0 §3.1.2.6
    public const string LoginRequired = "login_required";
    public const string ConsentRequired = "consent_required";
    public const string InteractionRequired = "interaction_required";
    public const string RequestNotSupported = "request_not_supported";
    public const string RequestUriNotSupported = "request_uri_not_supported";
    public const string RegistrationNotSupported = "registration_not_supported";

    // RFC 6750 §3.1
    public const string InvalidToken = "invalid_token";
    public const string InsufficientScope = "insufficient_scope";
}

internal static class ClientAuthenticationMethods
{
    public const string ClientSecretBasic = "client_secret_basic";
    public const string ClientSecretPost = "client_secret_post";
    public const string None = "none";
    public const string PrivateKeyJwt = "private_key_jwt";

    /// <summary>RFC 7523 §2.2 with an HMAC keyed by the client's secret (OpenID Connect Core §9).</summary>
    public const string ClientSecretJwt = "client_secret_jwt";

    /// <summary>RFC 8705 §2.1: a certificate from a trusted CA with the registered subject.</summary>
    public const string TlsClientAuth = "tls_client_auth";

    /// <summary>RFC 8705 §2.2: the registered (usually self-signed) certificate itself.</summary>
    public const string SelfSignedTlsClientAuth = "self_signed_tls_client_auth";

    /// <summary>RFC 7523 §2.2: the <c>client_assertion_type</c> of a JWT client assertion.</summary>
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
}

internal static class JwtClaimNames
{
    public const string Issuer = "iss";
    public const string Subject = "sub";
    public const string Audience = "aud";
    public const string Expires = "exp";
    public const string NotBefore = "nbf";
    public const string IssuedAt = "iat";
    public const string JwtId = "jti";
    public const string ClientId = "client_id";
    public const string Scope = "scope";
}

internal static class TokenTypes
{
    /// <summary>RFC 9068 §2.1: the <c>typ</c> header of JWT access tokens.</summary>
    public const string AccessTokenJwt = "at+jwt";
    public const string Bearer = "Bearer";

    /// <summary>The <c>typ</c> of id_tokens: plain JWT, distinct from <c>at+jwt</c> so neither passes for the other.</summary>
    public const string IdTokenJwt = "JWT";

    /// <summary>OpenID Connect Back-Channel Logout 1.0 §2.4.</summary>
    public const string LogoutTokenJwt = "logout+jwt";
}
