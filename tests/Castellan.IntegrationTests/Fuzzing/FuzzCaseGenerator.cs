namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// Builds case <c>n</c> of a run from (seed, n) alone: which endpoint, which baseline, and which one thing is broken, so
/// any case can be rebuilt and replayed without the ones before it.
/// </summary>
internal sealed class FuzzCaseGenerator(int seed, IReadOnlyList<FuzzEndpoint> endpoints, string authority, FuzzCredentials credentials)
{
    public FuzzCase Create(int number)
    {
        var random = new FuzzRandom(seed, number);
        var endpoint = random.Pick(endpoints);
        var draft = Draft(random, endpoint);
        var roll = random.Next(100);
        var description = roll switch
        {
            < 36 => FormMutations.Apply(random, draft),
            < 60 => HeaderMutations.Apply(random, draft),
            < 72 => RequestLineMutations.Apply(random, draft),
            _ => FramingMutations.Apply(random, draft, r => Structured(r, endpoint)),
        };

        return new FuzzCase
        {
            Number = number,
            Endpoint = endpoint,
            Baseline = draft.Baseline,
            Description = $"[{draft.Baseline.Name}] {description}",
            Wire = WireText.ToBytes(draft.ToWire()),
            ExpectedResponses = draft.ExpectedResponses,
            HalfClose = draft.HalfClose,
            Reset = draft.Reset,
            IsHead = draft.Method == "HEAD" && draft.WireOverride is null,
            MustNotSucceed = draft.MustNotSucceed,
            Secrets = [.. draft.Secrets.Distinct(StringComparer.Ordinal)],
            AllowedServerErrors = draft.AllowedServerErrors,
            AnswerMayBeHttp2 = draft.AnswerMayBeHttp2,
        };
    }

    /// <summary>Another request for the same endpoint in a pipeline: a baseline, or one with a parameter or header broken.</summary>
    private RequestDraft Structured(FuzzRandom random, FuzzEndpoint endpoint)
    {
        var draft = Draft(random, endpoint);
        switch (random.Next(3))
        {
            case 0:
                FormMutations.Apply(random, draft);
                break;
            case 1:
                HeaderMutations.Apply(random, draft);
                break;
        }

        return draft;
    }

    private RequestDraft Draft(FuzzRandom random, FuzzEndpoint endpoint)
        => RequestDraft.For(endpoint, random.Pick(endpoint.Target.Baselines), authority, credentials);
}
