using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Castellan.Keys;
using Castellan.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench;

internal static class MicroBenchmarks
{
    public static int Run(string[] args)
    {
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkRunner.Run<TokenCreationBenchmarks>(config, args);
        BenchmarkRunner.Run<DPoPProofBenchmarks>(config, args);
        return 0;
    }
}

/// <summary>Creating and validating one access token without HTTP: the floor, the library, and Castellan's path.</summary>
[MemoryDiagnoser]
public class TokenCreationBenchmarks
{
    private static readonly Dictionary<string, object> TypHeader = new() { ["typ"] = "at+jwt" };
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly JwtAccessTokenCreator _creator = new();
    private readonly IdentityTokenCreator _identityCreator = new();
    private IdentityTokenDescriptor _identityDescriptor = null!;
    private RSA _rsa = null!;
    private string _floorHeader = null!;
    private SigningCredentials _rsaCredentials = null!;
    private KeyRing _rsaRing = null!;
    private KeyRing _ecRing = null!;
    private AccessTokenDescriptor _descriptor = null!;
    private string _payload = null!;
    private string _token = null!;
    private TokenValidationParameters _validation = null!;
    private Castellan.ApiProtection.ValidatedJwtCache _cache = null!;
    private Castellan.ApiProtection.ValidatedJwtCache _fullCache = null!;
    private Castellan.ApiProtection.ValidatedJwtCache.TokenHash _tokenHash;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _rsa = RSA.Create(2048);
        var rsaKey = new RsaSecurityKey(_rsa) { KeyId = "bench-rsa" };
        _rsaCredentials = new SigningCredentials(rsaKey, SecurityAlgorithms.RsaSha256);
        _floorHeader = Base64UrlEncoder.Encode("""{"alg":"RS256","kid":"bench-rsa","typ":"at+jwt"}""");
        _rsaRing = new KeyRing([("RS256", _rsaCredentials)], [PublishedKey.From(rsaKey, "RS256")], DateTimeOffset.MaxValue);
        var ecKey = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "bench-ec" };
        _ecRing = new KeyRing([("ES256", new SigningCredentials(ecKey, "ES256"))], [PublishedKey.From(ecKey, "ES256")], DateTimeOffset.MaxValue);
        _descriptor = new AccessTokenDescriptor
        {
            Issuer = "http://127.0.0.1:5000",
            ClientId = BenchSetup.ClientId,
            Subject = BenchSetup.ClientId,
            Audiences = [BenchSetup.Audience],
            Scopes = [BenchSetup.Scope],
            IssuedAt = DateTimeOffset.UtcNow,
            LifetimeSeconds = 3600,
        };
        _payload = JwtAccessTokenCreator.WritePayload(_descriptor);
        _identityDescriptor = new IdentityTokenDescriptor
        {
            Issuer = _descriptor.Issuer,
            ClientId = BenchSetup.WebClientId,
            Subject = BenchSetup.SubjectId,
            IssuedAt = _descriptor.IssuedAt,
            LifetimeSeconds = 300,
            AuthTime = _descriptor.IssuedAt,
            Nonce = "bench-nonce",
            SessionId = "bench-session",
            Amr = ["pwd"],
            AccessToken = _creator.Create(_descriptor, _rsaRing),
        };
        _token = _creator.Create(_descriptor, _rsaRing)!;
        _validation = new TokenValidationParameters
        {
            ValidIssuer = _descriptor.Issuer,
            ValidAudience = BenchSetup.Audience,
            IssuerSigningKey = _rsaRing.ValidationKeys[0],
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = ["RS256"],
        };
        _cache = new Castellan.ApiProtection.ValidatedJwtCache(10_000, TimeSpan.FromSeconds(30));
        var validated = _handler.ValidateTokenAsync(_token, _validation).GetAwaiter().GetResult();
        _tokenHash = Castellan.ApiProtection.ValidatedJwtCache.Hash(_token);
        _now = DateTimeOffset.UtcNow;
        _cache.Add(_tokenHash, validated.ClaimsIdentity, DateTimeOffset.MinValue, _now.AddHours(1), _now);

        // A cache at its capacity, the state a busy API lives in: the hit path must not get dearer there.
        _fullCache = new Castellan.ApiProtection.ValidatedJwtCache(10_000, TimeSpan.FromSeconds(30));
        for (var i = 0; i < 9_999; i++)
        {
            _fullCache.Add(Castellan.ApiProtection.ValidatedJwtCache.Hash("other-" + i), validated.ClaimsIdentity, DateTimeOffset.MinValue, _now.AddHours(1), _now);
        }

        _fullCache.Add(_tokenHash, validated.ClaimsIdentity, DateTimeOffset.MinValue, _now.AddHours(1), _now);
    }

    [Benchmark(Baseline = true, Description = "floor: hand-built JSON + RSA.SignData (RS256)")]
    public string Floor() => Servers.FloorServer.CreateToken(_rsa, _floorHeader, _descriptor.Issuer, BenchSetup.Scope);

    [Benchmark(Description = "JsonWebTokenHandler.CreateToken (RS256)")]
    public string Handler() => _handler.CreateToken(_payload, _rsaCredentials, TypHeader);

    [Benchmark(Description = "Castellan JwtAccessTokenCreator (RS256)")]
    public string? CastellanRs256() => _creator.Create(_descriptor, _rsaRing);

    [Benchmark(Description = "Castellan IdentityTokenCreator (RS256, nonce, sid, at_hash)")]
    public string IdentityTokenRs256() => _identityCreator.Create(_identityDescriptor, _rsaRing);

    [Benchmark(Description = "Castellan JwtAccessTokenCreator (ES256)")]
    public string? CastellanEs256() => _creator.Create(_descriptor, _ecRing);

    [Benchmark(Description = "JsonWebTokenHandler.ValidateTokenAsync (RS256)")]
    public async Task<bool> Validate() => (await _handler.ValidateTokenAsync(_token, _validation)).IsValid;

    [Benchmark(Description = "Castellan validated-token cache hit (hash, lookup, lifetime, copy)")]
    public bool CacheHit()
        => _cache.TryGet(Castellan.ApiProtection.ValidatedJwtCache.Hash(_token), DateTimeOffset.UtcNow) is not null;

    [Benchmark(Description = "Castellan validated-token cache hit, full cache, hash precomputed (lookup, lifetime, copy)")]
    public bool CacheHitFullLookupOnly() => _fullCache.TryGet(_tokenHash, _now) is not null;
}
