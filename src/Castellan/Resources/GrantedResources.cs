namespace Castellan.Resources;

/// <summary>The outcome of scope validation: what the token will carry and for whom.</summary>
internal sealed record GrantedResources(IReadOnlyList<string> Scopes, IReadOnlyList<string> Audiences, IReadOnlyList<string> AllowedSigningAlgorithms);
