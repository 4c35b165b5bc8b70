using Castellan.Stores;

namespace Castellan.Tests.Stores;

public sealed class InMemoryPersistedGrantStoreTests : PersistedGrantStoreContract
{
    protected override IPersistedGrantStore CreateStore() => new InMemoryPersistedGrantStore(Time);
}
