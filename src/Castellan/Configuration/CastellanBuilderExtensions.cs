using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Castellan.Keys;
using Castellan.Stores;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace Castellan;

public static class CastellanBuilderExtensions
{
    public static ICastellanBuilder AddInMemoryClients(this ICastellanBuilder builder, IEnumerable<Client> clients)
    {
        Configuration(builder).Clients.AddRange(clients);
        return builder;
    }

    public static ICastellanBuilder AddInMemoryApiScopes(this ICastellanBuilder builder, IEnumerable<ApiScope> scopes)
    {
        Configuration(builder).ApiScopes.AddRange(scopes);
        return builder;
    }

    public static ICastellanBuilder AddInMemoryApiResources(this ICastellanBuilder builder, IEnumerable<ApiResource> resources)
    {
        Configuration(builder).ApiResources.AddRange(resources);
        return builder;
    }

    public static ICastellanBuilder AddInMemoryIdentityResources(this ICastellanBuilder builder, IEnumerable<IdentityResource> resources)
    {
        Configuration(builder).IdentityResources.AddRange(resources);
        return builder;
    }

    /// <summary>
    /// Reads clients, API scopes, API resources and identity resources from <typeparamref name="TSource"/> as
    /// well (a database, with Castellan.Storage.EntityFramework). They are cached for
    /// <see cref="CastellanOptions.ConfigurationCacheLifetime"/>, read again when the source's version changes, and
    /// validated together with what was added in code, once per change: a change that does not validate is logged
    /// and not used. A source that also implements <see cref="IConfigurationChangeNotifier"/> has its version
    /// checked as soon as it announces a change.
    /// </summary>
    public static ICastellanBuilder AddConfigurationSource<TSource>(this ICastellanBuilder builder)
        where TSource : class, IConfigurationSnapshotSource
    {
        ArgumentNullException.ThrowIfNull(builder);
        // One instance, whether resolved as the source or as itself (the EF store also writes configuration).
        builder.Services.TryAddSingleton<TSource>();
        builder.Services.AddSingleton<IConfigurationSnapshotSource>(sp => sp.GetRequiredService<TSource>());
        builder.Services.AddSingleton<SnapshotConfigurationStore>();
        builder.Services.AddSingleton<IClientStore>(sp => sp.GetRequiredService<SnapshotConfigurationStore>());
        builder.Services.AddSingleton<IResourceStore>(sp => sp.GetRequiredService<SnapshotConfigurationStore>());
        return builder;
    }

    /// <summary>
    /// Users kept in memory, for development, tests and small fixed deployments. Passwords are hashed when the store
    /// is built. Replace <see cref="Users.IUserStore"/> for a real account system.
    /// </summary>
    public static ICastellanBuilder AddTestUsers(this ICastellanBuilder builder, IEnumerable<TestUser> users)
    {
        Singleton<Users.InMemoryUsers>(builder).Users.AddRange(users);
        return builder;
    }

    /// <summary>
    /// Signs with a key you manage (an RSA or ECDSA key with a <see cref="SecurityKey.KeyId"/>). The first
    /// credential added is the default; adding any turns automatic key management off.
    /// </summary>
    public static ICastellanBuilder AddSigningCredential(this ICastellanBuilder builder, SecurityKey key, string algorithm = SigningAlgorithms.RS256)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrEmpty(key.KeyId))
        {
            throw new InvalidOperationException("A signing key needs a KeyId; it becomes the 'kid' of tokens and of the JWKS entry.");
        }

        SigningAlgorithms.EnsureCompatible(key, algorithm);
        Keys(builder).Signing.Add((algorithm, key));
        return builder;
    }

    /// <summary>Signs with a certificate's private key; the key id is the certificate's SHA-256 thumbprint.</summary>
    public static ICastellanBuilder AddSigningCredential(this ICastellanBuilder builder, X509Certificate2 certificate, string algorithm = SigningAlgorithms.RS256)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"Certificate {certificate.Subject} has no private key and cannot sign.");
        }

        return builder.AddSigningCredential(new X509SecurityKey(certificate, SigningAlgorithms.KeyIdFor(certificate)), algorithm);
    }

    /// <summary>
    /// Signs with a PEM private key file (PKCS#8 or PKCS#1 RSA, SEC1 or PKCS#8 EC). The key id is the RFC 7638
    /// thumbprint of the public key, so it stays the same across restarts.
    /// </summary>
    public static ICastellanBuilder AddSigningKeyFromPemFile(this ICastellanBuilder builder, string path, string algorithm = SigningAlgorithms.RS256)
    {
        var pem = File.ReadAllText(path);
        AsymmetricAlgorithm key = SigningAlgorithms.IsRsa(algorithm) ? RSA.Create() : ECDsa.Create();
        key.ImportFromPem(pem);
        var securityKey = SigningAlgorithms.ToSecurityKey(key, "");
        securityKey.KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromSecurityKey(securityKey).ComputeJwkThumbprint());
        return builder.AddSigningCredential(securityKey, algorithm);
    }

    /// <summary>Publishes a key in the JWKS without signing with it, e.g. the previous key during a manual rollover.</summary>
    public static ICastellanBuilder AddValidationKey(this ICastellanBuilder builder, SecurityKey key, string algorithm = SigningAlgorithms.RS256)
    {
        Keys(builder).Validation.Add((algorithm, key));
        return builder;
    }

    private static InMemoryConfiguration Configuration(ICastellanBuilder builder) => Singleton<InMemoryConfiguration>(builder);

    private static StaticKeys Keys(ICastellanBuilder builder) => Singleton<StaticKeys>(builder);

    /// <summary>The one instance registered for <typeparamref name="T"/>, so repeated Add* calls accumulate.</summary>
    private static T Singleton<T>(ICastellanBuilder builder) where T : class, new()
    {
        var existing = builder.Services.FirstOrDefault(d => d.ServiceType == typeof(T) && d.ImplementationInstance is T);
        if (existing?.ImplementationInstance is T instance)
        {
            return instance;
        }

        for (var i = builder.Services.Count - 1; i >= 0; i--)
        {
            if (builder.Services[i].ServiceType == typeof(T))
            {
                builder.Services.RemoveAt(i);
            }
        }

        instance = new T();
        builder.Services.AddSingleton(instance);
        return instance;
    }
}
