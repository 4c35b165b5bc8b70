namespace Castellan.Security;

/// <summary>Decides whether a proof's <c>nonce</c> is one the server issued and still accepts (RFC 9449 §8).</summary>
/// <remarks><see cref="DPoPNonces"/> is the stateless implementation; implement this for nonces kept in a store.</remarks>
public interface IDPoPNonceValidator
{
    ValueTask<bool> IsValidAsync(string nonce, CancellationToken cancellationToken);
}
