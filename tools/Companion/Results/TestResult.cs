namespace ConcurrencyKata.Companion;

/// <summary>One test result read from a TRX file.</summary>
/// <param name="Exercise">The exercise folder name (e.g. 01-work-queue), from the test assembly's path.</param>
/// <param name="ClassName">The fixture's full name.</param>
/// <param name="Name">The test's name (with its arguments, for a parameterised test).</param>
/// <param name="Step">The step: the test's <c>[Step(N)]</c> (see <see cref="StepMap"/>); null when it has none.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Message">The whole failure message, as the test wrote it (empty when it passed).</param>
/// <param name="Duration">How long it ran.</param>
internal sealed record TestResult(string? Exercise, string ClassName, string Name, int? Step, TestOutcome Outcome, string Message, TimeSpan Duration = default)
{
    /// <summary>The fixture's name without its namespace.</summary>
    public string Fixture => ClassName[(ClassName.LastIndexOf('.') + 1)..];

    /// <summary>The diagnosis to show the learner (see <see cref="ConcurrencyKata.Companion.Diagnosis"/>); null when it passed.</summary>
    public Diagnosis? Diagnosis => Outcome is TestOutcome.Failed or TestOutcome.NotImplemented ? Diagnosis.Of(Name, Message) : null;
}
