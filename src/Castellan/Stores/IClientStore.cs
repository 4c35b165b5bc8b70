namespace Castellan.Stores;

/// <summary>Where clients come from. Return null for an unknown client.</summary>
public interface IClientStore
{
    ValueTask<Client?> FindClientByIdAsync(string clientId, CancellationToken cancellationToken);
}
