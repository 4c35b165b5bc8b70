using Microsoft.Extensions.DependencyInjection;

namespace Castellan;

/// <summary>Returned by <c>AddCastellan</c>; features hang off it.</summary>
public interface ICastellanBuilder
{
    IServiceCollection Services { get; }
}

internal sealed class CastellanBuilder(IServiceCollection services) : ICastellanBuilder
{
    public IServiceCollection Services { get; } = services;
}
