namespace ConcurrencyKata.Companion;

/// <summary>Everything one or more dotnet test runs wrote: test results, run-level problems, build errors.</summary>
internal sealed record RunResults(IReadOnlyList<TestResult> Tests, IReadOnlyList<RunProblem> Problems, IReadOnlyList<BuildError> BuildErrors)
{
    /// <summary>No results at all.</summary>
    public static RunResults Empty { get; } = new([], [], []);
}

/// <summary>A run-level problem (test host crashed, run aborted), attributed to an exercise when possible.</summary>
internal sealed record RunProblem(string? Exercise, string Text);
