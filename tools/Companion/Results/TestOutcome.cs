namespace ConcurrencyKata.Companion;

/// <summary>How one test ended, as dotnet test reported it.</summary>
internal enum TestOutcome
{
    /// <summary>Passed.</summary>
    Passed,

    /// <summary>Failed because the stub still throws NotImplementedException: the step is not started.</summary>
    NotImplemented,

    /// <summary>Failed for another reason.</summary>
    Failed,

    /// <summary>Skipped, ignored, inconclusive, not executed or aborted.</summary>
    NotRun,
}
