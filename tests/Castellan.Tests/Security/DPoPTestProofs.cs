using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Castellan.Security;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Tests.Security;

/// <summary>A client's DPoP key: the private key that signs, and the public JWK that goes into the proof.</summary>
internal sealed class ProofKey
{
    private static readonly Lazy<ProofKey> SharedRsa = new(() => Rsa(SecurityAlgorithms.RsaSsaPssSha256));
    private static readonly Lazy<ProofKey> OtherRsa = new(() => Rsa(SecurityAlgorithms.RsaSsaPssSha256));

    private ProofKey(SecurityKey signingKey, string algorithm, JsonWebKey publicJwk)
    {
        SigningKey = signingKey;
        Algorithm = algorithm;
        PublicJwk = publicJwk;
        Thumbprint = JwkThumbprint.ComputeSha256Base64Url(publicJwk);
    }

    public SecurityKey SigningKey { get; }

    public string Algorithm { get; }

    public JsonWebKey PublicJwk { get; }

    public string Thumbprint { get; }

    public static ProofKey Ec(string algorithm = SecurityAlgorithms.EcdsaSha256)
    {
        var curve = algorithm switch
        {
            SecurityAlgorithms.EcdsaSha384 => ECCurve.NamedCurves.nistP384,
            SecurityAlgorithms.EcdsaSha512 => ECCurve.NamedCurves.nistP521,
            _ => ECCurve.NamedCurves.nistP256,
        };
        var ecdsa = ECDsa.Create(curve);
        var publicKey = ECDsa.Create(ecdsa.ExportParameters(false));
        return new ProofKey(new ECDsaSecurityKey(ecdsa), algorithm, JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(publicKey)));
    }

    /// <summary>One RSA key for every test (generating them is slow), used with the given algorithm.</summary>
    public static ProofKey SharedRsaWith(string algorithm) => new(SharedRsa.Value.SigningKey, algorithm, SharedRsa.Value.PublicJwk);

    /// <summary>A second shared RSA key, for tests that need two.</summary>
    public static ProofKey OtherRsaWith(string algorithm) => new(OtherRsa.Value.SigningKey, algorithm, OtherRsa.Value.PublicJwk);

    private static ProofKey Rsa(string algorithm)
    {
        var rsa = RSA.Create(2048);
        var publicKey = new RsaSecurityKey(rsa.ExportParameters(false));
        return new ProofKey(new RsaSecurityKey(rsa), algorithm, JsonWebKeyConverter.ConvertFromRSASecurityKey(publicKey));
    }

    /// <summary>The JWK header value: only the public members (RFC 9449 §4.2).</summary>
    public Dictionary<string, object> JwkHeader() => PublicJwk.Kty == JsonWebAlgorithmsKeyTypes.RSA
        ? new() { ["kty"] = "RSA", ["n"] = PublicJwk.N, ["e"] = PublicJwk.E }
        : new() { ["kty"] = "EC", ["crv"] = PublicJwk.Crv, ["x"] = PublicJwk.X, ["y"] = PublicJwk.Y };
}

/// <summary>A DPoP proof to build: by default a valid one for a POST to the token endpoint, signed with ES256.</summary>
internal sealed class TestProof
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public TestProof(ProofKey key, DateTimeOffset now)
    {
        Key = key;
        Jwk = key.JwkHeader();
        Claims = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString(),
            ["htm"] = "POST",
            ["htu"] = DPoPTestContext.TokenEndpoint.ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
        };
    }

    public ProofKey Key { get; set; }

    public string Type { get; set; } = DPoPConstants.ProofType;

    /// <summary>The jwk header; null leaves it out.</summary>
    public Dictionary<string, object>? Jwk { get; set; }

    public Dictionary<string, object> ExtraHeaders { get; } = [];

    public Dictionary<string, object> Claims { get; }

    /// <summary>Signed by Microsoft.IdentityModel's JsonWebTokenHandler, as a client would.</summary>
    public string Sign()
    {
        var headers = new Dictionary<string, object>(ExtraHeaders);
        if (Jwk is not null)
        {
            headers["jwk"] = Jwk;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = Type,
            SigningCredentials = new SigningCredentials(Key.SigningKey, Key.Algorithm),
            AdditionalHeaderClaims = headers,
            Claims = Claims,
        });
    }

    /// <summary>A proof written by hand, for what JsonWebTokenHandler will not produce; the signature is what the caller says.</summary>
    public static string Raw(string headerJson, string payloadJson, string signature = "c2lnbmF0dXJl")
        => $"{Encode(headerJson)}.{Encode(payloadJson)}.{signature}";

    public static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    public string PayloadJson() => JsonSerializer.Serialize(Claims);

    public string JwkJson() => JsonSerializer.Serialize(Jwk);
}

/// <summary>A validator on a fake clock with an in-memory replay cache, and a request to the token endpoint.</summary>
internal sealed class DPoPTestContext
{
    public static readonly Uri TokenEndpoint = new("https://login.example.com/connect/token");
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public DPoPTestContext(Func<TimeProvider, IReplayCache>? replayCache = null, Action<DPoPProofValidationOptions>? configure = null)
    {
        var options = new DPoPProofValidationOptions();
        configure?.Invoke(options);
        ReplayCache = replayCache?.Invoke(Time) ?? new InMemoryReplayCache(Options.Create(new ReplayCacheOptions()), Time);
        Validator = new DPoPProofValidator(ReplayCache, Options.Create(options), Time);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public IReplayCache ReplayCache { get; }

    public DPoPProofValidator Validator { get; }

    public TestProof Proof(ProofKey? key = null) => new(key ?? ProofKey.Ec(), Time.GetUtcNow());

    public ValueTask<DPoPProofValidationResult> ValidateAsync(
        StringValues header, string method = "POST", Uri? uri = null, string? accessToken = null, string? expectedThumbprint = null,
        IDPoPNonceValidator? nonces = null)
        => Validator.ValidateAsync(new DPoPProofValidationContext
        {
            ProofHeader = header,
            Method = method,
            RequestUri = uri ?? TokenEndpoint,
            AccessToken = accessToken,
            ExpectedThumbprint = expectedThumbprint,
            NonceValidator = nonces,
        }, CancellationToken.None);

    public static void AssertRejected(DPoPProofValidationResult result, DPoPProofFailure failure, string error = DPoPConstants.InvalidDPoPProof)
    {
        Assert.False(result.IsValid, $"accepted; expected {failure}");
        Assert.Equal(failure, result.Failure);
        Assert.Equal(error, result.Error);
        Assert.False(string.IsNullOrEmpty(result.ErrorDescription));
        Assert.Null(result.Thumbprint);
    }
}
