using System.Globalization;

namespace Castellan.IntegrationTests.Fuzzing;

/// <summary>
/// How much to fuzz, from environment variables so CI runs the fixed default and anyone can run longer or replay
/// one case without editing code:
/// <c>CASTELLAN_FUZZ_SEED</c> (default <see cref="DefaultSeed"/>), <c>CASTELLAN_FUZZ_CASES</c> (default
/// <see cref="DefaultCases"/>) and <c>CASTELLAN_FUZZ_CASE</c> (run only that case number).
/// </summary>
internal sealed record FuzzSettings(int Seed, int Cases, int? OnlyCase)
{
    public const string SeedVariable = "CASTELLAN_FUZZ_SEED";
    public const string CasesVariable = "CASTELLAN_FUZZ_CASES";
    public const string CaseVariable = "CASTELLAN_FUZZ_CASE";

    /// <summary>Fixed, so CI is deterministic: the same cases every run until someone picks another seed.</summary>
    public const int DefaultSeed = 8015;

    public const int DefaultCases = 5000;

    /// <summary>Cases between two checks that the server still answers well-formed requests.</summary>
    public const int BatchSize = 200;

    public static FuzzSettings FromEnvironment()
    {
        var seed = Read(SeedVariable) ?? DefaultSeed;
        var cases = Read(CasesVariable) ?? DefaultCases;
        var only = Read(CaseVariable);
        if (cases < 1)
        {
            throw new InvalidOperationException($"{CasesVariable} must be at least 1.");
        }

        if (only is < 0)
        {
            throw new InvalidOperationException($"{CaseVariable} is a case number from a failure message, 0 or more.");
        }

        return new FuzzSettings(seed, cases, only);
    }

    /// <summary>The case numbers this run covers.</summary>
    public IEnumerable<int> CaseNumbers => OnlyCase is { } one ? [one] : Enumerable.Range(0, Cases);

    public string ReplayCommand(int caseNumber)
        => $"{SeedVariable}={Seed} {CaseVariable}={caseNumber} dotnet test tests/Castellan.IntegrationTests --filter \"FullyQualifiedName~Fuzz\"";

    private static int? Read(string name)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"{name}={text} is not a whole number.");
    }
}
