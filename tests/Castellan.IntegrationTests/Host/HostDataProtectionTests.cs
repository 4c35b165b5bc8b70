using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;

namespace Castellan.IntegrationTests.Host;

/// <summary>
/// The host's Data Protection keys, which encrypt the signing keys, encrypted in turn with an operator's certificate
/// so that the two folders together no longer give away the signing keys.
/// </summary>
public sealed class HostDataProtectionTests
{
    private const string Password = "pfx-password";

    private static string WriteCertificate(string folder)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=castellan-data-protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(folder, "dp.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    [Fact]
    public async Task Certificate_protects_the_data_protection_keys_and_a_restart_still_reads_the_signing_key()
    {
        using var root = new TempDirectory();
        var certificate = WriteCertificate(root.Path);
        var port = TestApp.FreePort();
        string[] args = TestApp.HostArgs(root.Path, port,
            "--Castellan:DataProtection:CertificatePath=dp.pfx",
            $"--Castellan:DataProtection:CertificatePassword={Password}");
        Assert.True(File.Exists(certificate));

        string token;
        string jwks;
        await using (var first = await TestApp.StartAsync(CastellanHostApp.Build(args)))
        {
            using var http = first.CreateClient();
            token = await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
            jwks = await http.GetStringAsync(".well-known/openid-configuration/jwks");
        }

        // With the embedded database, the Data Protection keys are rows of it.
        string xml;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(root.Path, ".castellan", "castellan.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT Xml FROM DataProtectionKeys";
            xml = (string)(await command.ExecuteScalarAsync())!;
        }

        Assert.Contains("EncryptedData", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);

        await using var second = await TestApp.StartAsync(CastellanHostApp.Build(args));
        using var again = second.CreateClient();
        Assert.Equal(jwks, await again.GetStringAsync(".well-known/openid-configuration/jwks"));
        Assert.True((await TestTokens.ValidateAsync(again, token, second.BaseAddress, "api1")).IsValid);
    }

    [Theory]
    [InlineData("dp.pfx", "wrong-password")]
    [InlineData("missing.pfx", Password)]
    public void Unreadable_certificate_is_a_named_configuration_error(string path, string password)
    {
        using var root = new TempDirectory();
        WriteCertificate(root.Path);
        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            $"--Castellan:DataProtection:CertificatePath={path}",
            $"--Castellan:DataProtection:CertificatePassword={password}")));
        Assert.Contains("Castellan:DataProtection:CertificatePath", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_protection_keys_may_live_in_their_own_folder()
    {
        using var root = new TempDirectory();
        await using var host = await TestApp.StartAsync(CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0,
            "--Castellan:DataProtection:Path=dp-keys")));
        using var http = host.CreateClient();
        await TestTokens.GetAccessTokenAsync(http, "demo-client", "demo-secret");
        Assert.Single(Directory.GetFiles(Path.Combine(root.Path, "dp-keys"), "key-*.xml"));
    }
}
