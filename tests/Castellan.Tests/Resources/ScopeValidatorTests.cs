using Castellan.Clients;
using Castellan.Protocol;
using Castellan.Resources;

namespace Castellan.Tests.Resources;

/// <summary>Which scopes and audiences a client-credentials request gets (RFC 6749 §3.3, RFC 8707, RFC 9068 §2.2).</summary>
public sealed class ScopeValidatorTests
{
    private const string Issuer = "https://issuer.example";
    private const string Payments = "https://payments.example";
    private const string Orders = "https://orders.example";

    private static readonly ResourceIndex Index = new(new Castellan.Stores.Resources(
        [new ApiScope("orders.read"), new ApiScope("payments"), new ApiScope("shared"), new ApiScope("loose")],
        [
            new ApiResource(Orders) { Scopes = { "orders.read", "shared" } },
            new ApiResource(Payments) { Scopes = { "payments", "shared" }, RequireResourceIndicator = true },
        ],
        []));

    private static readonly ClientModel Client = ClientModel.For(new Client
    {
        ClientId = "c",
        AllowedGrantTypes = { GrantTypes.ClientCredentials },
        AllowedScopes = { "orders.read", "payments", "shared", "loose" },
    });

    private static Outcome<GrantedResources> Validate(string? scope, params string[] resources)
        => ScopeValidator.Validate(scope, resources, Client, Index, Issuer, 1000, allowIdentityScopes: false);

    [Fact]
    public void Default_scopes_leave_out_those_only_an_api_that_must_be_named_owns()
    {
        var granted = Validate(null).Value!;
        Assert.Equal(["orders.read", "shared", "loose"], granted.Scopes);
        Assert.Equal([Orders], granted.Audiences);
    }

    [Fact]
    public void Naming_the_api_grants_its_scopes_and_makes_it_the_only_audience()
    {
        var granted = Validate(null, Payments).Value!;
        Assert.Equal(["payments", "shared"], granted.Scopes);
        Assert.Equal([Payments], granted.Audiences);
    }

    [Fact]
    public void Asking_for_a_scope_of_an_api_that_must_be_named_without_naming_it_is_invalid_target()
    {
        var outcome = Validate("orders.read payments");
        Assert.True(outcome.IsError);
        Assert.Equal(OAuthErrors.InvalidTarget, outcome.Error!.Error);
    }

    [Fact]
    public void A_scope_shared_with_an_api_that_need_not_be_named_goes_to_that_api()
    {
        var granted = Validate("shared").Value!;
        Assert.Equal([Orders], granted.Audiences);
    }

    [Fact]
    public void Scope_of_no_api_resource_gets_the_servers_own_audience()
    {
        var granted = Validate("loose").Value!;
        Assert.Equal([Issuer + "/resources"], granted.Audiences);
    }

    [Fact]
    public void Scope_outside_the_named_resources_is_invalid_scope()
    {
        var outcome = Validate("orders.read", Payments);
        Assert.Equal(OAuthErrors.InvalidScope, outcome.Error!.Error);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("https://orders.example#frag")]
    [InlineData("https://unknown.example")]
    public void Bad_resource_values_are_invalid_target(string resource)
        => Assert.Equal(OAuthErrors.InvalidTarget, Validate(null, resource).Error!.Error);
}
