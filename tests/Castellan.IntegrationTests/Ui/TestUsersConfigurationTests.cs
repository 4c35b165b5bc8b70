using System.Security.Claims;
using Castellan.Host;
using Castellan.IntegrationTests.Infrastructure;
using Castellan.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Castellan.IntegrationTests.Ui;

/// <summary><c>Castellan:TestUsers</c>: claims keep their OIDC Core §5.1 types, and every mistake is named.</summary>
public sealed class TestUsersConfigurationTests
{
    private const string Alice = """
        { "SubjectId": "1", "Username": "alice", "Password": "alice-password-1",
          "Claims": { "name": "Alice Smith", "email": "alice@example.com", "email_verified": "true", "phone_number_verified": "False",
                      "updated_at": "1767225600", "address": "{\"street_address\":\"1 Main St\",\"country\":\"NL\"}",
                      "groups": "[\"admins\",\"staff\"]", "nickname": "{not json", "website": "https://alice.example" } }
        """;

    [Fact]
    public async Task Test_users_are_added_with_claims_typed_by_the_standard_claim_names()
    {
        using var root = new TempDirectory();
        var config = await WriteConfigAsync(root, Alice + ", { \"SubjectId\": \"2\", \"Username\": \"bob\", \"Password\": \"bob-password-1\", \"IsActive\": false }");

        await using var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config));

        var users = app.Services.GetRequiredService<InMemoryUsers>().Users;
        Assert.Equal(["alice", "bob"], users.Select(u => u.Username));
        var alice = users[0];
        Assert.Equal("1", alice.SubjectId);
        Assert.True(alice.IsActive);
        Assert.False(users[1].IsActive);
        Assert.Equal(("Alice Smith", ClaimValueTypes.String), Typed(alice, "name"));
        Assert.Equal(("true", ClaimValueTypes.Boolean), Typed(alice, "email_verified"));
        Assert.Equal(("false", ClaimValueTypes.Boolean), Typed(alice, "phone_number_verified"));
        Assert.Equal(("1767225600", ClaimValueTypes.Integer64), Typed(alice, "updated_at"));
        Assert.Equal(("{\"street_address\":\"1 Main St\",\"country\":\"NL\"}", ClientClaim.Json), Typed(alice, "address"));
        Assert.Equal(ClientClaim.Json, Typed(alice, "groups").Type);
        Assert.Equal(("{not json", ClaimValueTypes.String), Typed(alice, "nickname"));
        Assert.Equal(ClaimValueTypes.String, Typed(alice, "website").Type);
    }

    [Theory]
    [InlineData("{ \"Username\": \"a\", \"Password\": \"p\" }", "Castellan:TestUsers:0:SubjectId is missing")]
    [InlineData("{ \"SubjectId\": \"1\", \"Password\": \"p\" }", "Castellan:TestUsers:0:Username is missing")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\" }", "Castellan:TestUsers:0:Password is missing")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\" }, { \"SubjectId\": \"1\", \"Username\": \"b\", \"Password\": \"p\" }", "Castellan:TestUsers:1:SubjectId '1' is used by more than one test user")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"alice\", \"Password\": \"p\" }, { \"SubjectId\": \"2\", \"Username\": \"ALICE\", \"Password\": \"p\" }", "Castellan:TestUsers:1:Username 'ALICE' is used by more than one test user")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"email_verified\": \"yes\" } }", "Castellan:TestUsers:0:Claims:email_verified: must be true or false")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"updated_at\": \"yesterday\" } }", "Castellan:TestUsers:0:Claims:updated_at: must be a number of seconds")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"address\": \"1 Main St\" } }", "Castellan:TestUsers:0:Claims:address: must be a JSON object")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"address\": \"[1]\" } }", "Castellan:TestUsers:0:Claims:address: must be a JSON object")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"sub\": \"2\" } }", "Castellan:TestUsers:0:Claims:sub: 'sub' is set by the server itself")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"name\": \"\" } }", "Castellan:TestUsers:0:Claims:name: the value is empty")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"IsActive\": \"sometimes\" }", "Castellan:TestUsers:0:IsActive: 'sometimes' is not true or false")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Pasword\": \"p\" }", "did you mean 'Password'?")]
    [InlineData("{ \"SubjectId\": \"1\", \"Username\": \"a\", \"Password\": \"p\", \"Claims\": { \"address\": { \"country\": \"NL\" } } }", "Castellan:TestUsers:0:Claims:address: expected a String")]
    public async Task A_bad_test_user_is_a_named_configuration_error(string users, string expected)
    {
        using var root = new TempDirectory();
        var config = await WriteConfigAsync(root, users);

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_never_appears_in_a_configuration_error()
    {
        using var root = new TempDirectory();
        var config = await WriteConfigAsync(root, """
            { "SubjectId": "1", "Username": "a", "Password": "Very-Secret-Password-1", "Claims": { "email_verified": "Very-Secret-Password-1x" } },
            { "SubjectId": "1", "Username": "a", "Password": "Very-Secret-Password-1" }
            """);

        var ex = Assert.Throws<CastellanConfigurationException>(() => CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config)));

        Assert.Equal(3, ex.Errors.Count);
        Assert.DoesNotContain("Very-Secret-Password", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_has_alice_and_an_interactive_client()
    {
        var demo = DemoConfiguration.Create();

        var alice = Assert.Single(demo.TestUsers);
        Assert.Equal(("1", "alice", "alice"), (alice.SubjectId, alice.Username, alice.Password));
        Assert.Equal(("Alice Smith", ClaimValueTypes.String), Typed(alice, "name"));
        Assert.Equal(("alice@example.com", ClaimValueTypes.String), Typed(alice, "email"));
        Assert.Equal(("true", ClaimValueTypes.Boolean), Typed(alice, "email_verified"));
        var web = Assert.Single(demo.Clients, c => c.ClientId == "demo-web");
        Assert.Equal([GrantTypes.AuthorizationCode, GrantTypes.RefreshToken], web.AllowedGrantTypes);
        Assert.Equal(["http://localhost:5002/signin-oidc"], web.RedirectUris);
        Assert.Equal(["http://localhost:5002/signout-callback-oidc"], web.PostLogoutRedirectUris);
        Assert.Equal(["openid", "profile", "email", "api1"], web.AllowedScopes);
        Assert.True(web.AllowOfflineAccess);
        Assert.True(web.RequireConsent);
        Assert.True(Secret.FromPlainText("demo-web-secret").Value == Assert.Single(web.ClientSecrets).Value);
        Assert.Equal(["openid", "profile", "email"], demo.IdentityResources.Select(r => r.Name));
        Assert.Contains(demo.Clients, c => c.ClientId == "demo-client");

        // The running demo serves alice; the client credentials demo keeps working (HostTests).
        using var root = new TempDirectory();
        await using var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path));
        Assert.Equal(["alice"], app.Services.GetRequiredService<InMemoryUsers>().Users.Select(u => u.Username));
    }

    [Fact]
    public async Task Test_users_of_the_operator_replace_the_demo_user()
    {
        using var root = new TempDirectory();
        var config = Path.Combine(root.Path, "users.json");
        await File.WriteAllTextAsync(config, """{ "Castellan": { "TestUsers": [ { "SubjectId": "7", "Username": "carol", "Password": "carol-password-1" } ] } }""");

        await using var app = CastellanHostApp.Build(TestApp.HostArgs(root.Path, 0, "--config", config));

        Assert.Equal(["carol"], app.Services.GetRequiredService<InMemoryUsers>().Users.Select(u => u.Username));
    }

    private static (string Value, string Type) Typed(TestUser user, string type)
    {
        var claim = Assert.Single(user.Claims, c => c.Type == type);
        return (claim.Value, claim.ValueType);
    }

    private static async Task<string> WriteConfigAsync(TempDirectory root, string users)
    {
        var config = Path.Combine(root.Path, "castellan.json");
        await File.WriteAllTextAsync(config, "{ \"Castellan\": { \"ApiScopes\": [ { \"Name\": \"api1\" } ], \"TestUsers\": [ " + users + " ] } }");
        return config;
    }
}
