using System.Security.Cryptography;
using Castellan.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Castellan.Tests.Security;

public sealed class DPoPNoncesTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private readonly FakeTimeProvider _time = new(Start);

    private DPoPNonces Hmac(byte[]? key = null, TimeProvider? time = null)
        => new(Options.Create(new DPoPNonceOptions { HmacKey = key ?? Key }), time ?? _time);

    private DPoPNonces Protected(IDataProtectionProvider provider)
        => new(Options.Create(new DPoPNonceOptions()), _time, provider);

    [Fact]
    public void Nonce_is_accepted_for_its_lifetime_and_then_refused()
    {
        var nonces = Hmac();
        var nonce = nonces.GetCurrentNonce();

        Assert.True(nonces.IsValid(nonce));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(nonces.IsValid(nonce));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(nonces.IsValid(nonce));
    }

    [Fact]
    public void Nonce_changes_every_fifth_of_the_lifetime()
    {
        var nonces = Hmac();
        var first = nonces.GetCurrentNonce();
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(first, nonces.GetCurrentNonce());
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = nonces.GetCurrentNonce();

        Assert.NotEqual(first, second);
        Assert.True(nonces.IsValid(first));
        Assert.True(nonces.IsValid(second));
    }

    [Fact]
    public void Nodes_sharing_the_key_issue_and_accept_the_same_nonce()
    {
        var nodeA = Hmac();
        var nodeB = Hmac(time: new FakeTimeProvider(Start.AddSeconds(20)));

        Assert.Equal(nodeA.GetCurrentNonce(), nodeB.GetCurrentNonce());
        Assert.True(nodeB.IsValid(nodeA.GetCurrentNonce()));
    }

    [Fact]
    public void Nonce_from_another_key_is_refused()
        => Assert.False(Hmac().IsValid(Hmac(RandomNumberGenerator.GetBytes(32)).GetCurrentNonce()));

    [Fact]
    public void Tampered_nonce_is_refused()
    {
        var nonce = Hmac().GetCurrentNonce().ToCharArray();
        nonce[5] = nonce[5] == 'A' ? 'B' : 'A';
        Assert.False(Hmac().IsValid(new string(nonce)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-nonce")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("!!!")]
    public void Garbage_is_refused_without_throwing(string nonce)
    {
        Assert.False(Hmac().IsValid(nonce));
        Assert.False(Protected(new EphemeralDataProtectionProvider()).IsValid(nonce));
    }

    [Fact]
    public void Nonce_from_a_node_far_ahead_is_refused()
    {
        var ahead = Hmac(time: new FakeTimeProvider(Start.AddMinutes(3)));
        Assert.False(Hmac().IsValid(ahead.GetCurrentNonce()));
        // Up to one bucket ahead is a clock difference, and accepted.
        var slightlyAhead = Hmac(time: new FakeTimeProvider(Start.AddSeconds(61)));
        Assert.True(Hmac().IsValid(slightlyAhead.GetCurrentNonce()));
    }

    [Fact]
    public void Data_protection_nonces_are_accepted_by_any_node_with_the_key_ring_until_they_expire()
    {
        var keyRing = new EphemeralDataProtectionProvider();
        var nodeA = Protected(keyRing);
        var nodeB = Protected(keyRing);
        var nonce = nodeA.GetCurrentNonce();

        Assert.True(nodeB.IsValid(nonce));
        Assert.False(Protected(new EphemeralDataProtectionProvider()).IsValid(nonce));
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.False(nodeB.IsValid(nonce));
        Assert.False(nodeA.IsValid(nonce));
    }

    [Fact]
    public void Without_a_key_or_data_protection_construction_fails()
        => Assert.Throws<InvalidOperationException>(() => new DPoPNonces(Options.Create(new DPoPNonceOptions()), _time));

    [Fact]
    public void Short_key_fails_at_startup()
        => Assert.Throws<OptionsValidationException>(() => Hmac(new byte[16]));
}
