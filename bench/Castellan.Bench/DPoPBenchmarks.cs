using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Extensions.Primitives;

namespace Castellan.Bench;

/// <summary>
/// Validating one ES256 DPoP proof against the raw signature check it contains: the target is that a DPoP
/// call costs at most a Bearer call plus 1.5 raw verifications, so everything else in the proof must stay under half
/// of one. The replay cache is measured apart (a proof here is validated again and again, so the validator's own
/// cache accepts every value).
/// </summary>
[MemoryDiagnoser]
public class DPoPProofBenchmarks
{
    private static readonly Uri TokenEndpoint = new("https://login.example.com/connect/token");
    private static readonly Uri Resource = new("https://api.example.com/orders");
    private const string AccessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl";

    private ECDsa _publicKey = null!;
    private byte[] _signingInput = null!;
    private byte[] _signature = null!;
    private DPoPProofValidator _validator = null!;
    private DPoPProofValidator _uncachedValidator = null!;
    private DPoPProofValidationContext _tokenRequest = null!;
    private DPoPProofValidationContext _resourceRequest = null!;
    private InMemoryReplayCache _replayCache = null!;
    private long _counter;

    [GlobalSetup]
    public void Setup()
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _publicKey = ECDsa.Create(ecdsa.ExportParameters(false));
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(_publicKey));
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        string Proof(string htm, string htu, string? ath) => handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = DPoPConstants.ProofType,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ecdsa), SecurityAlgorithms.EcdsaSha256),
            AdditionalHeaderClaims = new Dictionary<string, object>
            {
                ["jwk"] = new Dictionary<string, object> { ["kty"] = "EC", ["crv"] = jwk.Crv, ["x"] = jwk.X, ["y"] = jwk.Y },
            },
            Claims = ath is null
                ? new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = htm, ["htu"] = htu, ["iat"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() }
                : new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = htm, ["htu"] = htu, ["iat"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), ["ath"] = ath },
        });

        var tokenProof = Proof("POST", TokenEndpoint.ToString(), null);
        var dot = tokenProof.LastIndexOf('.');
        _signingInput = Encoding.ASCII.GetBytes(tokenProof[..dot]);
        _signature = Base64Url.DecodeFromChars(tokenProof.AsSpan(dot + 1));
        var ath = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(AccessToken)));

        // iat an hour ahead with a one-hour window: the proofs stay valid for the whole run.
        var options = Options.Create(new DPoPProofValidationOptions { IatWindow = TimeSpan.FromHours(1), ClockSkew = TimeSpan.FromMinutes(30) });
        _validator = new DPoPProofValidator(new AcceptAllReplayCache(), options, TimeProvider.System);
        _uncachedValidator = new DPoPProofValidator(new AcceptAllReplayCache(),
            Options.Create(new DPoPProofValidationOptions { IatWindow = TimeSpan.FromHours(1), ClockSkew = TimeSpan.FromMinutes(30), KeyCacheSize = 0 }),
            TimeProvider.System);
        _tokenRequest = new DPoPProofValidationContext { ProofHeader = new StringValues(tokenProof), Method = "POST", RequestUri = TokenEndpoint };
        _resourceRequest = new DPoPProofValidationContext
        {
            ProofHeader = new StringValues(Proof("GET", Resource.ToString(), ath)),
            Method = "GET",
            RequestUri = Resource,
            AccessToken = AccessToken,
            ExpectedThumbprint = JwkThumbprint.ComputeSha256Base64Url(jwk),
        };
        _replayCache = new InMemoryReplayCache(Options.Create(new ReplayCacheOptions()), TimeProvider.System);
    }

    [Benchmark(Baseline = true, Description = "floor: ECDsa.VerifyData of the proof (ES256)")]
    public bool RawVerify() => _publicKey.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256);

    [Benchmark(Description = "DPoPProofValidator, token endpoint (ES256, key seen before)")]
    public async Task<bool> TokenEndpointProof() => (await _validator.ValidateAsync(_tokenRequest, CancellationToken.None)).IsValid;

    [Benchmark(Description = "DPoPProofValidator, resource: ath and jkt (ES256, key seen before)")]
    public async Task<bool> ResourceProof() => (await _validator.ValidateAsync(_resourceRequest, CancellationToken.None)).IsValid;

    [Benchmark(Description = "DPoPProofValidator, token endpoint (ES256, key imported every time)")]
    public async Task<bool> TokenEndpointProofNewKey() => (await _uncachedValidator.ValidateAsync(_tokenRequest, CancellationToken.None)).IsValid;

    [Benchmark(Description = "InMemoryReplayCache.TryAddAsync, a new value (1 s expiry)")]
    public async Task<bool> ReplayCacheAdd()
        => await _replayCache.TryAddAsync(ReplayCachePurposes.DPoPProof, $"jti-{Interlocked.Increment(ref _counter)}", DateTimeOffset.UtcNow.AddSeconds(1), CancellationToken.None);

    private sealed class AcceptAllReplayCache : IReplayCache
    {
        public ValueTask<bool> TryAddAsync(string purpose, string value, DateTimeOffset expiresAt, CancellationToken cancellationToken) => new(true);
    }
}
