using System.Text.Json.Serialization;

namespace ConcurrencyKata.Companion;

/// <summary>Where a step stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StepState>))]
internal enum StepState
{
    /// <summary>Every test of the step passed.</summary>
    Done,

    /// <summary>Some tests pass, or the tests fail for a reason other than the stub's NotImplementedException.</summary>
    InProgress,

    /// <summary>Every test failed with the stub's NotImplementedException.</summary>
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

    /// <summary>The build failed, so no test ran.</summary>
    BuildFailed,

    /// <summary>The test run was aborted (e.g. the test host crashed).</summary>
    Aborted,
}

/// <summary>One step on the board.</summary>
internal sealed record StepProgress(int Number, string Title, int Tests, int Passed, int Failed, int NotImplemented, StepState State, int Points, string? FirstFailure);

/// <summary>One exercise on the board.</summary>
internal sealed record ExerciseProgress(string Id, string Number, string Title, ExerciseState State, IReadOnlyList<StepProgress> Steps, IReadOnlyList<string> Problems)
{
    /// <summary>Points earned: each done step is worth its number of tests.</summary>
    public int Points => Steps.Sum(s => s.Points);

    /// <summary>Points available: the number of tests (as far as they ran).</summary>
    public int MaxPoints => Steps.Sum(s => s.Tests);

    /// <summary>Every step is done.</summary>
    public bool Done => State == ExerciseState.Ran && Steps.Count > 0 && Steps.All(s => s.State == StepState.Done);
}

/// <summary>The step to work on next, with the hint to start from.</summary>
internal sealed record NextStep(string Exercise, string Number, int Step, string Title, string? FirstFailure, string? Hint, int HintCount);

/// <summary>The progress board: what dotnet test reported, grouped by exercise and step.</summary>
internal sealed record Board(string Mode, IReadOnlyList<ExerciseProgress> Exercises, NextStep? Next, IReadOnlyList<string> Problems)
{
    /// <summary>The JSON board's format version, for dojo scoreboards that read it.</summary>
#pragma warning disable CA1822 // serialized as a property of every board
    public int SchemaVersion => 1;
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

/// <summary>Builds the board from the exercises on disk and the results dotnet test wrote.</summary>
internal static class BoardBuilder
{
    /// <summary>
    /// Groups <paramref name="results"/> by exercise and step. Steps come from each README's <c>## Step N</c>
    /// headings and from the results themselves. A step is done when all its tests passed; it is worth its number
    /// of tests. The next step is the first step not done, in exercise and step order, among the exercises that ran.
    /// </summary>
    public static Board Build(string mode, IReadOnlyList<ExerciseInfo> exercises, RunResults results, Func<ExerciseInfo, int, (string? Hint, int Count)>? hints = null)
    {
        var rows = new List<ExerciseProgress>();
        NextStep? next = null;
        foreach (var exercise in exercises)
        {
            var tests = results.Tests.Where(t => t.Exercise == exercise.Id).ToList();
            var errors = results.BuildErrors.Where(e => e.Exercise == exercise.Id).ToList();
            var problems = results.Problems.Where(p => p.Exercise == exercise.Id).Select(p => p.Text).ToList();
            var state = errors.Count > 0 && tests.Count == 0 ? ExerciseState.BuildFailed
                : problems.Count > 0 ? ExerciseState.Aborted
                : tests.Count > 0 ? ExerciseState.Ran
                : ExerciseState.NotRun;
            problems.InsertRange(0, errors.Select(e => e.ToString()));

            var numbers = exercise.Steps.Select(s => s.Number)
                .Concat(tests.Where(t => t.Step is not null).Select(t => t.Step!.Value))
                .Distinct().Order().ToList();
            var steps = new List<StepProgress>();
            foreach (var n in numbers)
            {
                var title = exercise.Steps.FirstOrDefault(s => s.Number == n)?.Title ?? $"Step {n}";
                var mine = tests.Where(t => t.Step == n).ToList();
                steps.Add(StepOf(n, title, mine));
            }

            var unstepped = tests.Where(t => t.Step is null).ToList();
            if (unstepped.Count > 0)
            {
                steps.Add(StepOf(0, "Tests without a step", unstepped));
            }

            var row = new ExerciseProgress(exercise.Id, exercise.Number, exercise.Title, state, steps, problems);
            rows.Add(row);

            if (next is null && state is ExerciseState.Ran or ExerciseState.Aborted or ExerciseState.BuildFailed)
            {
                var step = steps.FirstOrDefault(s => s.State != StepState.Done);
                if (step is not null)
                {
                    var (hint, count) = hints?.Invoke(exercise, step.Number) ?? (null, 0);
                    next = new NextStep(exercise.Id, exercise.Number, step.Number, step.Title, step.FirstFailure, hint, count);
                }
            }
        }

        var general = results.Problems.Where(p => p.Exercise is null || exercises.All(e => e.Id != p.Exercise)).Select(p => p.Text)
            .Concat(results.BuildErrors.Where(e => e.Exercise is null || exercises.All(x => x.Id != e.Exercise)).Select(e => e.ToString()))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return new Board(mode, rows, next, general);
    }

    private static StepProgress StepOf(int number, string title, List<TestResult> tests)
    {
        var passed = tests.Count(t => t.Outcome == TestOutcome.Passed);
        var notImplemented = tests.Count(t => t.Outcome == TestOutcome.NotImplemented);
        var failed = tests.Count(t => t.Outcome == TestOutcome.Failed);
        var state = tests.Count == 0 || tests.All(t => t.Outcome == TestOutcome.NotRun) ? StepState.NotRun
            : passed == tests.Count ? StepState.Done
            : passed == 0 && failed == 0 ? StepState.NotStarted
            : StepState.InProgress;
        var firstFailure = tests.FirstOrDefault(t => t.Outcome == TestOutcome.Failed)
            ?? tests.FirstOrDefault(t => t.Outcome == TestOutcome.NotImplemented);
        var failure = firstFailure is null ? null : $"{firstFailure.Name}: {firstFailure.Message}";
        return new StepProgress(number, title, tests.Count, passed, failed, notImplemented, state, state == StepState.Done ? tests.Count : 0, failure);
    }
}
