using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Castellan.Bench.Servers;

/// <summary>
/// The floor: parse the form, build an equivalent RFC 9068 payload by hand, sign it with the raw RSA key, answer.
/// No client authentication, no validation, no library: the least a token over HTTP can cost on this machine.
/// </summary>
internal static class FloorServer
{
    public static Func<WebApplication, Task> Configure(WebApplicationBuilder builder, string keyPem, string issuer)
    {
        var rsa = BenchSetup.LoadRsa(keyPem);
        var header = Base64UrlEncoder.Encode("""{"alg":"RS256","kid":"bench-rsa","typ":"at+jwt"}""");
        return app =>
        {
            app.MapPost("/connect/token", async context =>
        {
            var form = await context.Request.ReadFormAsync();
            var token = CreateToken(rsa, header, issuer, form["scope"].ToString());
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
            {
                writer.WriteStartObject();
                writer.WriteString("access_token", token);
                writer.WriteString("token_type", "Bearer");
                writer.WriteNumber("expires_in", 3600);
                writer.WriteString("scope", BenchSetup.Scope);
                writer.WriteEndObject();
            }

            await context.Response.BodyWriter.FlushAsync();
            });
            return Task.CompletedTask;
        };
    }

    internal static string CreateToken(RSA rsa, string encodedHeader, string issuer, string scope)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            writer.WriteStartObject();
            writer.WriteString("iss", issuer);
            writer.WriteNumber("exp", now + 3600);
            writer.WriteNumber("iat", now);
            writer.WriteNumber("nbf", now);
            writer.WriteString("jti", Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
            writer.WriteString("aud", BenchSetup.Audience);
            writer.WriteString("sub", BenchSetup.ClientId);
            writer.WriteString("client_id", BenchSetup.ClientId);
            writer.WriteString("scope", scope);
            writer.WriteEndObject();
        }

        var signingInput = encodedHeader + "." + Base64UrlEncoder.Encode(buffer.WrittenSpan.ToArray());
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }
}
