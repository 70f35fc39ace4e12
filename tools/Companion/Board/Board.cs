using System.Text.Json.Serialization;

namespace ConcurrencyKata.Companion;

/// <summary>Where a step stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StepState>))]
internal enum StepState
{
    /// <summary>Every test of the step passed.</summary>
    Done,

    /// <summary>Some tests pass; or it is the exercise's current step and its tests fail for a reason other than the stub.</summary>
    InProgress,

    /// <summary>No test passes, and it is not the step being worked on (or the stubs still throw).</summary>
    NotStarted,

    /// <summary>No test of the step ran (not part of this run, build failed, run aborted).</summary>
    NotRun,
}

/// <summary>Where an exercise's run stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ExerciseState>))]
internal enum ExerciseState
{
    /// <summary>Its tests ran.</summary>
    Ran,

    /// <summary>Its tests were not part of this run.</summary>
    NotRun,

    /// <summary>The build failed, so no test ran (the steps shown are the last known ones).</summary>
    BuildFailed,

    /// <summary>The test run was aborted (e.g. the test host crashed).</summary>
    Aborted,
}

/// <summary>One step on the board.</summary>
/// <param name="Number">The step's number (0 for tests without a step).</param>
/// <param name="Title">Its title, from the exercise README.</param>
/// <param name="Tests">How many tests it has (that ran).</param>
/// <param name="Passed">How many passed.</param>
/// <param name="Failed">How many failed for a reason other than the stub.</param>
/// <param name="NotImplemented">How many failed with the stub's NotImplementedException.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Points">What it earns: its number of tests once every one passes, else 0.</param>
/// <param name="Failures">What its failing tests say, the ones that name a rule first (at most three, distinct).</param>
internal sealed record StepProgress(int Number, string Title, int Tests, int Passed, int Failed, int NotImplemented, StepState State, int Points, IReadOnlyList<Diagnosis> Failures);

/// <summary>One exercise on the board.</summary>
internal sealed record ExerciseProgress(string Id, string Number, string Title, ExerciseState State, IReadOnlyList<StepProgress> Steps, IReadOnlyList<string> Problems)
{
    /// <summary>Points earned: each done step is worth its number of tests.</summary>
    public int Points => Steps.Sum(s => s.Points);

    /// <summary>Points available: the number of tests (as far as they ran).</summary>
    public int MaxPoints => Steps.Sum(s => s.Tests);

    /// <summary>Every step is done.</summary>
    public bool Done => State == ExerciseState.Ran && Steps.Count > 0 && Steps.All(s => s.State == StepState.Done);

    /// <summary>Its tests are part of this board (they ran, or tried to).</summary>
    public bool Covered => State != ExerciseState.NotRun;
}

/// <summary>The step to work on next, what its tests say, and the hint to start from.</summary>
/// <param name="Exercise">The exercise's folder name.</param>
/// <param name="Number">The exercise's number.</param>
/// <param name="Step">The step.</param>
/// <param name="Title">The step's title.</param>
/// <param name="Failures">What its failing tests say (see <see cref="StepProgress"/>).</param>
/// <param name="Hint">Its first hint, if HINTS.md has one.</param>
/// <param name="HintCount">How many hints it has.</param>
/// <param name="FixBuildFirst">The build failed: the step is the last known one, and the build errors come first.</param>
internal sealed record NextStep(string Exercise, string Number, int Step, string Title, IReadOnlyList<Diagnosis> Failures, string? Hint, int HintCount, bool FixBuildFirst = false);

/// <summary>The progress board: what dotnet test reported, grouped by exercise and step.</summary>
internal sealed record Board(KataMode Mode, IReadOnlyList<ExerciseProgress> Exercises, NextStep? Next, IReadOnlyList<string> Problems)
{
    /// <summary>The JSON board's format version, for dojo scoreboards that read it (2: failures are diagnoses).</summary>
#pragma warning disable CA1822 // serialized as a property of every board
    public int SchemaVersion => 2;
#pragma warning restore CA1822

    /// <summary>Points earned over every exercise.</summary>
    public int Points => Exercises.Sum(e => e.Points);

    /// <summary>Points available over every exercise that ran.</summary>
    public int MaxPoints => Exercises.Sum(e => e.MaxPoints);

    /// <summary>Steps done.</summary>
    public int StepsDone => Exercises.Sum(e => e.Steps.Count(s => s.State == StepState.Done));

    /// <summary>Steps known (from the READMEs and the results).</summary>
    public int StepCount => Exercises.Sum(e => e.Steps.Count);
}
