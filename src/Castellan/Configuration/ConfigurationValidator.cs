using Castellan.Keys;
using Castellan.Stores;

namespace Castellan;

/// <summary>Checks clients and resources against each other; every problem is reported, not just the first.</summary>
internal static class ConfigurationValidator
{
    private static readonly string[] BuiltInAuthenticationMethods =
        [Protocol.ClientAuthenticationMethods.ClientSecretBasic, Protocol.ClientAuthenticationMethods.ClientSecretPost, Protocol.ClientAuthenticationMethods.PrivateKeyJwt,
            Protocol.ClientAuthenticationMethods.ClientSecretJwt, Protocol.ClientAuthenticationMethods.TlsClientAuth, Protocol.ClientAuthenticationMethods.SelfSignedTlsClientAuth, Protocol.ClientAuthenticationMethods.None];

    private static void ValidateAuthenticationMethods(Client client, IReadOnlyCollection<string> registered, string label, List<string> errors)
    {
        foreach (var method in client.AllowedAuthenticationMethods.Where(m => !registered.Contains(m)))
        {
            errors.Add($"{label}: authentication method '{method}' is unknown; supported: {string.Join(", ", registered)}.");
        }

        if (client.RequireClientSecret && client.AllowedAuthenticationMethods.Contains(Protocol.ClientAuthenticationMethods.None))
        {
            errors.Add($"{label}: authentication method 'none' is for public clients; set RequireClientSecret = false or remove it.");
        }

        foreach (var method in client.AllowedAuthenticationMethods.Where(m => m is Protocol.ClientAuthenticationMethods.ClientSecretBasic or Protocol.ClientAuthenticationMethods.ClientSecretPost))
        {
            if (!client.ClientSecrets.Any(s => s.Type == SecretTypes.SharedSecret))
            {
                errors.Add($"{label}: authentication method '{method}' needs a shared secret in ClientSecrets.");
            }
        }

        if (client.AllowedAuthenticationMethods.Contains(Protocol.ClientAuthenticationMethods.PrivateKeyJwt)
            && client.JwksUri is null && !client.ClientSecrets.Any(s => s.Type == SecretTypes.JsonWebKey))
        {
            errors.Add($"{label}: authentication method 'private_key_jwt' needs the client's public key: a JWK secret in ClientSecrets or a JwksUri.");
        }

        if (client.AllowedAuthenticationMethods.Contains(Protocol.ClientAuthenticationMethods.ClientSecretJwt)
            && !client.ClientSecrets.Any(s => s.Type == SecretTypes.HmacSecret))
        {
            errors.Add($"{label}: authentication method 'client_secret_jwt' needs the secret its assertions are keyed with: an HmacSecret in ClientSecrets (a SharedSecret is only a hash).");
        }

        if (client.AllowedAuthenticationMethods.Contains(Protocol.ClientAuthenticationMethods.TlsClientAuth)
            && !client.ClientSecrets.Any(s => s.Type == SecretTypes.X509Name))
        {
            errors.Add($"{label}: authentication method 'tls_client_auth' needs the certificate's subject: an X509Name secret in ClientSecrets.");
        }

        if (client.AllowedAuthenticationMethods.Contains(Protocol.ClientAuthenticationMethods.SelfSignedTlsClientAuth)
            && !client.ClientSecrets.Any(s => s.Type == SecretTypes.X509Thumbprint || (s.Type == SecretTypes.JsonWebKey && Clients.Authentication.ClientCertificates.X5cThumbprint(s.Value) is not null)))
        {
            errors.Add($"{label}: authentication method 'self_signed_tls_client_auth' needs the certificate: an X509Thumbprint secret, or a JWK secret with x5c, in ClientSecrets.");
        }
    }

    private static readonly HashSet<string> ReservedClaims = new(StringComparer.Ordinal)
    {
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "sid", "cnf", "auth_time", "acr", "amr", "act", "azp", "typ",
    };

    /// <param name="grantTypes">The registered grant types (the token endpoint's grant validators); by default the built-in ones.</param>
    /// <param name="authenticationMethods">The registered client authentication methods; by default the built-in ones.</param>
    public static List<string> Validate(InMemoryConfiguration configuration, IReadOnlyCollection<string> signingAlgorithms, IReadOnlyCollection<string>? grantTypes = null,
        IReadOnlyCollection<string>? authenticationMethods = null)
    {
        grantTypes ??= GrantTypes.Supported;
        authenticationMethods ??= BuiltInAuthenticationMethods;
        var errors = new List<string>();
        var apiScopes = Names(configuration.ApiScopes.Select(s => s.Name), "ApiScope", errors);
        var identity = Names(configuration.IdentityResources.Select(r => r.Name), "IdentityResource", errors);
        Names(configuration.ApiResources.Select(r => r.Name), "ApiResource", errors);
        foreach (var name in apiScopes.Intersect(identity, StringComparer.Ordinal))
        {
            errors.Add($"'{name}' is both an ApiScope and an IdentityResource; scope names must be unique.");
        }

        foreach (var resource in configuration.ApiResources)
        {
            foreach (var scope in resource.Scopes.Where(s => !apiScopes.Contains(s)))
            {
                errors.Add($"ApiResource '{resource.Name}' names scope '{scope}', which is not a configured ApiScope.");
            }

            foreach (var algorithm in resource.AllowedAccessTokenSigningAlgorithms.Where(a => !signingAlgorithms.Contains(a)))
            {
                errors.Add($"ApiResource '{resource.Name}' allows signing algorithm '{algorithm}', but the server has no key for it; add it to KeyManagement.SigningAlgorithms (or a signing credential).");
            }

            ValidateSecrets(resource.ApiSecrets, $"ApiResource '{resource.Name}'", errors, forClient: false);
        }

        var clientIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var client in configuration.Clients)
        {
            var label = $"Client '{client.ClientId}'";
            if (string.IsNullOrWhiteSpace(client.ClientId))
            {
                errors.Add("A client has no ClientId.");
                continue;
            }

            if (!clientIds.Add(client.ClientId))
            {
                errors.Add($"ClientId '{client.ClientId}' is used by more than one client.");
            }

            foreach (var grant in client.AllowedGrantTypes.Where(g => !grantTypes.Contains(g)))
            {
                errors.Add($"{label}: grant type '{grant}' is unknown; supported: {string.Join(", ", grantTypes)}.");
            }

            if (client.AllowedGrantTypes.Count == 0)
            {
                errors.Add($"{label} has no AllowedGrantTypes.");
            }

            foreach (var scope in client.AllowedScopes.Where(s => !apiScopes.Contains(s) && !identity.Contains(s) && s != Protocol.StandardScopes.OfflineAccess))
            {
                errors.Add($"{label}: allowed scope '{scope}' is neither an ApiScope nor an IdentityResource.");
            }

            if (client.RequireClientSecret && client.ClientSecrets.Count == 0 && client.JwksUri is null)
            {
                errors.Add($"{label} requires a client secret but has none; add one to ClientSecrets (or a key: a JWK secret or JwksUri).");
            }

            if (client.AllowedGrantTypes.Contains(GrantTypes.ClientCredentials) && !client.RequireClientSecret)
            {
                errors.Add($"{label}: client_credentials needs a confidential client (RequireClientSecret = true).");
            }

            if (client.AccessTokenLifetime <= 0)
            {
                errors.Add($"{label}: AccessTokenLifetime must be a positive number of seconds.");
            }

            // Https is required when the keys are fetched (ClientJwks.RequireHttps), so development can use http.
            if (client.JwksUri is { } jwksUri && (!Uri.TryCreate(jwksUri, UriKind.Absolute, out var jwks)
                    || (jwks.Scheme != Uri.UriSchemeHttps && jwks.Scheme != Uri.UriSchemeHttp) || jwksUri.Contains('#', StringComparison.Ordinal)))
            {
                errors.Add($"{label}: JwksUri '{jwksUri}' must be an absolute https URL without a fragment.");
            }

            ValidateSecrets(client.ClientSecrets, label, errors, forClient: true);
            ValidateAuthenticationMethods(client, authenticationMethods, label, errors);
            ValidateInteractive(client, label, errors);

            // Every claim name appears once in a JWT (RFC 7519 §4); the prefixed names must not collide with the
            // claims the server writes itself.
            var claimNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var claim in client.Claims)
            {
                var name = client.ClientClaimsPrefix + claim.Type;
                if (string.IsNullOrEmpty(claim.Type) || ReservedClaims.Contains(name))
                {
                    errors.Add($"{label}: client claim '{name}' is empty or a claim the server sets itself; choose another type or keep the 'client_' prefix.");
                }
                else if (!claimNames.Add(name))
                {
                    errors.Add($"{label}: client claim '{name}' is defined more than once; a token can carry each claim name only once.");
                }
                else if (Tokens.TokenClaim.Create(name, claim.Value ?? "", claim.ValueType, out var reason) is null)
                {
                    errors.Add($"{label}: client claim '{name}': {reason}.");
                }
            }
        }

        return errors;
    }

    /// <summary>The settings of clients that send users to the authorize endpoint, and of their tokens.</summary>
    private static void ValidateInteractive(Client client, string label, List<string> errors)
    {
        foreach (var uri in client.RedirectUris)
        {
            if (RedirectUriProblem(uri) is { } problem)
            {
                errors.Add($"{label}: redirect URI '{uri}' {problem}.");
            }
        }

        foreach (var uri in client.PostLogoutRedirectUris)
        {
            if (RedirectUriProblem(uri) is { } problem)
            {
                errors.Add($"{label}: post-logout redirect URI '{uri}' {problem}.");
            }
        }

        foreach (var (name, uri) in new[] { ("FrontChannelLogoutUri", client.FrontChannelLogoutUri), ("BackChannelLogoutUri", client.BackChannelLogoutUri) })
        {
            if (uri is not null && (RedirectUriProblem(uri) is { } problem || !uri.StartsWith("http", StringComparison.Ordinal)))
            {
                errors.Add($"{label}: {name} '{uri}' must be an absolute https URL (http only on a loopback address).");
            }
        }

        foreach (var origin in client.AllowedCorsOrigins)
        {
            // An origin is scheme://host[:port], nothing more (RFC 6454); browsers send it lower case.
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var parsed) || parsed.GetLeftPart(UriPartial.Authority) != origin
                || (parsed.Scheme != Uri.UriSchemeHttps && !(parsed.Scheme == Uri.UriSchemeHttp && parsed.IsLoopback)) || origin != origin.ToLowerInvariant())
            {
                errors.Add($"{label}: CORS origin '{origin}' must be a lower-case https origin (scheme://host[:port], no path), or http on a loopback address.");
            }
        }

        if (client.AllowedGrantTypes.Contains(GrantTypes.AuthorizationCode) && client.RedirectUris.Count == 0)
        {
            errors.Add($"{label}: the authorization_code grant needs at least one entry in RedirectUris.");
        }

        if (client.IdentityTokenLifetime <= 0)
        {
            errors.Add($"{label}: IdentityTokenLifetime must be a positive number of seconds.");
        }

        if (client.AuthorizationCodeLifetime <= 0 || client.AuthorizationCodeLifetime > 600)
        {
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
            errors.Add($"{label}: AuthorizationCodeLifetime must be between 1 and 600 seconds.");
        }

        if (client.AbsoluteRefreshTokenLifetime < 0 || client.SlidingRefreshTokenLifetime <= 0 || client.RefreshTokenRotationGracePeriod < 0)
        {
            errors.Add($"{label}: AbsoluteRefreshTokenLifetime must not be negative (0: no limit), SlidingRefreshTokenLifetime must be positive, RefreshTokenRotationGracePeriod must not be negative.");
        }

        if (client.RefreshTokenRotationGracePeriod > 300)
        {
            errors.Add($"{label}: RefreshTokenRotationGracePeriod is meant for parallel requests of one app; keep it at most 300 seconds.");
        }

        if (client.ConsentLifetime is <= 0)
        {
            errors.Add($"{label}: ConsentLifetime must be a positive number of seconds, or null.");
        }

        if (client.UserSsoLifetime is < 0)
        {
            errors.Add($"{label}: UserSsoLifetime must not be negative.");
        }
    }

    /// <summary>
    /// RFC 9700 §2.1 and RFC 8252: an absolute URI without fragment; https, or http only on a loopback address, or a
    /// private-use scheme of a native app (a reversed domain name, with a dot).
    /// </summary>
    internal static string? RedirectUriProblem(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || uri.Contains('#', StringComparison.Ordinal))
        {
            return "must be an absolute URI without a fragment";
        }

        if (parsed.Scheme == Uri.UriSchemeHttps)
        {
            return null;
        }

        if (parsed.Scheme == Uri.UriSchemeHttp)
        {
            return parsed.IsLoopback ? null : "uses http on a host that is not a loopback address; use https";
        }

        return parsed.Scheme.Contains('.', StringComparison.Ordinal) ? null
            : "must use https, http on a loopback address, or a private-use scheme such as com.example.app (RFC 8252 §7.1)";
    }

    /// <summary>Test users: each with a subject, a username and a password, none twice.</summary>
    public static List<string> ValidateUsers(IEnumerable<TestUser> users)
    {
        var errors = new List<string>();
        var subjects = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var user in users)
        {
            var label = $"TestUser '{user.Username}'";
            if (string.IsNullOrWhiteSpace(user.SubjectId) || string.IsNullOrWhiteSpace(user.Username) || string.IsNullOrEmpty(user.Password))
            {
                errors.Add($"{label}: SubjectId, Username and Password are required.");
                continue;
            }

            if (!subjects.Add(user.SubjectId))
            {
                errors.Add($"{label}: SubjectId '{user.SubjectId}' is used by more than one user.");
            }

            if (!names.Add(user.Username))
            {
                errors.Add($"{label}: the username is used by more than one user (usernames compare case-insensitively).");
            }
        }

        return errors;
    }

    private static HashSet<string> Names(IEnumerable<string> names, string kind, List<string> errors)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add($"An {kind} has no Name.");
            }
            else if (name.Any(c => c <= 0x20 || c > 0x7E || c == '"' || c == '\\'))
            {
                errors.Add($"{kind} '{name}': names may only use printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3).");
            }
            else if (!set.Add(name))
            {
                errors.Add($"{kind} '{name}' is defined more than once.");
            }
        }

        return set;
    }

    /// <param name="forClient">Whether these are a client's secrets: only clients have the key and certificate types, and client_secret_jwt.</param>
    private static void ValidateSecrets(IEnumerable<Secret> secrets, string label, List<string> errors, bool forClient)
    {
        Span<byte> buffer = stackalloc byte[64];
        foreach (var secret in secrets)
        {
            if (!forClient && secret.Type != SecretTypes.SharedSecret)
            {
                errors.Add($"{label}: secret type '{secret.Type}' is for clients; an API resource authenticates at introspection with a '{SecretTypes.SharedSecret}'.");
                continue;
            }

            if (secret.Type == SecretTypes.HmacSecret)
            {
                // The secret itself is never part of a message.
                if (string.IsNullOrWhiteSpace(secret.Value))
                {
                    errors.Add($"{label}: an HmacSecret is empty; generate one with `new-secret`.");
                }
                else if (System.Text.Encoding.UTF8.GetByteCount(secret.Value) < Clients.Authentication.HmacSecrets.MinimumBytes)
                {
                    errors.Add($"{label}: an HmacSecret is shorter than {Clients.Authentication.HmacSecrets.MinimumBytes} bytes, the least HS256 allows (RFC 7518 §3.2); HS384 needs 48 and HS512 64. `new-secret` makes one of 64 characters.");
                }
                else if (secret.Value.StartsWith(Secret.Sha256Prefix, StringComparison.Ordinal))
                {
                    errors.Add($"{label}: an HmacSecret cannot be given as a hash ('{Secret.Sha256Prefix}'): the server keys HMACs with the secret itself.");
                }

                continue;
            }

            if (secret.Type == SecretTypes.JsonWebKey)
            {
                if (Clients.Authentication.ClientKeys.FromSecret(secret.Value ?? "") is null)
                {
                    errors.Add($"{label}: a JWK secret's Value is not a public RSA or EC key as JSON (a private key must never be configured: the client keeps it).");
                }

                continue;
            }

            if (secret.Type == SecretTypes.X509Name)
            {
                if (Clients.Authentication.ClientCertificates.ParseName(secret.Value) is null)
                {
                    errors.Add($"{label}: an X509Name secret's Value is not a distinguished name, e.g. 'CN=client.example.com, O=Example'.");
                }

                continue;
            }

            if (secret.Type == SecretTypes.X509Thumbprint)
            {
                if (Clients.Authentication.ClientCertificates.ParseThumbprint(secret.Value) is null)
                {
                    errors.Add($"{label}: an X509Thumbprint secret's Value is not a certificate thumbprint: 40 (SHA-1) or 64 (SHA-256) hex characters.");
                }

                continue;
            }

            if (secret.Type != SecretTypes.SharedSecret)
            {
                errors.Add($"{label}: secret type '{secret.Type}' is not supported; use '{SecretTypes.SharedSecret}', '{SecretTypes.HmacSecret}', '{SecretTypes.JsonWebKey}', '{SecretTypes.X509Name}' or '{SecretTypes.X509Thumbprint}'.");
                continue;
            }

            if (!Convert.TryFromBase64String(secret.Value ?? "", buffer, out var written) || written != 32)
            {
                errors.Add($"{label}: a secret's Value is not a base64 SHA-256 hash. Use Secret.FromPlainText(...) in code, or in configuration write the plain secret or 'sha256:' + the base64 hash.");
            }
            else if (string.Equals(secret.Value, Secret.EmptySecretHash, StringComparison.Ordinal))
            {
                // The hash of "": a client sending "id:" in its Basic header would authenticate.
                errors.Add($"{label}: a secret is empty. Empty secrets authenticate a caller who sends none; generate one with `new-secret`.");
            }
        }
    }
}
