namespace Castellan.Tests.Configuration;

/// <summary>Configuration checks of the interactive settings: clients' URIs and lifetimes, users, session and page options.</summary>
public sealed class InteractiveConfigurationTests
{
    private static List<string> Validate(Client client)
    {
        var configuration = new Castellan.Stores.InMemoryConfiguration();
        configuration.IdentityResources.Add(IdentityResource.OpenId());
        configuration.Clients.Add(client);
        return ConfigurationValidator.Validate(configuration, ["RS256"]);
    }

    private static Client CodeClient() => new()
    {
        ClientId = "web",
        ClientSecrets = { Secret.FromPlainText("a-long-enough-secret") },
        AllowedGrantTypes = { GrantTypes.AuthorizationCode },
        AllowedScopes = { "openid", "offline_access" },
        RedirectUris = { "https://app.example/cb" },
    };

    [Fact]
    public void A_valid_code_client_passes() => Assert.Empty(Validate(CodeClient()));

    [Theory]
    [InlineData("http://app.example/cb")]
    [InlineData("https://app.example/cb#frag")]
    [InlineData("/relative")]
    [InlineData("myapp:/cb")]
    public void Unsafe_redirect_uris_are_errors(string uri)
    {
        var client = CodeClient();
        client.RedirectUris = [uri];
        Assert.Contains(Validate(client), e => e.Contains("redirect URI", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1/cb")]
    [InlineData("http://[::1]:8080/cb")]
    [InlineData("http://localhost:5002/signin-oidc")]
    [InlineData("com.example.app:/oauth2redirect")]
    public void Loopback_and_private_use_redirect_uris_are_accepted(string uri)
    {
        var client = CodeClient();
        client.RedirectUris = [uri];
        Assert.Empty(Validate(client));
    }

    [Fact]
    public void Code_client_without_redirect_uris_is_an_error()
    {
        var client = CodeClient();
        client.RedirectUris = [];
        Assert.Contains(Validate(client), e => e.Contains("at least one entry in RedirectUris", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(Client.AuthorizationCodeLifetime), 601)]
    [InlineData(nameof(Client.AuthorizationCodeLifetime), 0)]
    [InlineData(nameof(Client.IdentityTokenLifetime), 0)]
    [InlineData(nameof(Client.RefreshTokenRotationGracePeriod), 301)]
    [InlineData(nameof(Client.RefreshTokenRotationGracePeriod), -1)]
    [InlineData(nameof(Client.SlidingRefreshTokenLifetime), 0)]
    public void Out_of_range_lifetimes_are_errors(string setting, int value)
    {
        var client = CodeClient();
        typeof(Client).GetProperty(setting)!.SetValue(client, value);
        Assert.Contains(Validate(client), e => e.Contains(setting, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://spa.example/")]
    [InlineData("https://SPA.example")]
    [InlineData("http://spa.example")]
    [InlineData("https://spa.example/path")]
    public void Cors_origins_must_be_bare_lower_case_https_origins(string origin)
    {
        var client = CodeClient();
        client.AllowedCorsOrigins = [origin];
        Assert.Contains(Validate(client), e => e.Contains("CORS origin", StringComparison.Ordinal));
    }

    [Fact]
    public void Test_users_need_subject_username_and_password_and_unique_names()
    {
        var errors = ConfigurationValidator.ValidateUsers(
        [
            new TestUser { SubjectId = "1", Username = "alice", Password = "x" },
            new TestUser { SubjectId = "1", Username = "ALICE", Password = "y" },
            new TestUser { SubjectId = "3", Username = "carol", Password = "" },
        ]);
        Assert.Contains(errors, e => e.Contains("SubjectId '1' is used by more than one user", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("username is used by more than one user", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("SubjectId, Username and Password are required", StringComparison.Ordinal));
    }

    [Fact]
    public void Session_and_page_options_that_cannot_work_are_errors()
    {
        var options = new CastellanOptions();
        options.Session.BackChannelLogoutAttempts = 0;
        options.Session.MaxFailedLoginsPerAccount = 0;
        options.UserInteraction.LoginUrl = "//evil.example/login";
        options.UserInteraction.ErrorUrl = "http://ui.example/error";
        var result = new CastellanOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("BackChannelLogoutAttempts", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("MaxFailedLoginsPerAccount", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("UserInteraction.LoginUrl", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("UserInteraction.ErrorUrl", StringComparison.Ordinal));
        Assert.False(new CastellanOptionsValidator().Validate(null, new CastellanOptions()).Failed);
    }
}
