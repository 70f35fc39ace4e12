namespace ConcurrencyKata.Companion;

/// <summary>Builds the board from the exercises on disk and the results dotnet test wrote.</summary>
internal static class BoardBuilder
{
    /// <summary>
    /// Groups <paramref name="results"/> by exercise and step. Steps come from each README's <c>## Step N</c>
    /// headings and from the results themselves. A step is done when all its tests passed; it is worth its number
    /// of tests. The next step is the first step not done, in exercise and step order, among the exercises that ran.
    /// An exercise whose build failed keeps the steps of <paramref name="previous"/> (the last board), so that the
    /// learner's place is not lost: the next step is still theirs, and the board says to fix the build first.
    /// </summary>
    public static Board Build(KataMode mode, IReadOnlyList<ExerciseInfo> exercises, RunResults results,
        Func<ExerciseInfo, int, (string? Hint, int Count)>? hints = null, Board? previous = null)
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

            var steps = state == ExerciseState.BuildFailed && previous?.Exercises.FirstOrDefault(p => p.Id == exercise.Id && p.Steps.Count > 0) is { } known
                ? [.. known.Steps]
                : Steps(exercise, tests);
            var row = new ExerciseProgress(exercise.Id, exercise.Number, exercise.Title, state, steps, problems);
            rows.Add(row);

            if (next is null && state is ExerciseState.Ran or ExerciseState.Aborted or ExerciseState.BuildFailed)
            {
                var step = steps.FirstOrDefault(s => s.State != StepState.Done);
                if (step is not null)
                {
                    var (hint, count) = hints?.Invoke(exercise, step.Number) ?? (null, 0);
                    next = new NextStep(exercise.Id, exercise.Number, step.Number, step.Title, step.Failures, hint, count, state == ExerciseState.BuildFailed);
                }
            }
        }

        var general = results.Problems.Where(p => p.Exercise is null || exercises.All(e => e.Id != p.Exercise)).Select(p => p.Text)
            .Concat(results.BuildErrors.Where(e => e.Exercise is null || exercises.All(x => x.Id != e.Exercise)).Select(e => e.ToString()))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return new Board(mode, rows, next, general);
    }

    /// <summary>The steps of one exercise from its tests' results.</summary>
    private static List<StepProgress> Steps(ExerciseInfo exercise, List<TestResult> tests)
    {
        var numbers = exercise.Steps.Select(s => s.Number)
            .Concat(tests.Where(t => t.Step is not null).Select(t => t.Step!.Value))
            .Distinct().Order().ToList();
        var steps = new List<StepProgress>();
        var current = true;
        foreach (var n in numbers)
        {
            var title = exercise.Steps.FirstOrDefault(s => s.Number == n)?.Title ?? $"Step {n}";
            var step = StepOf(n, title, tests.Where(t => t.Step == n).ToList(), current);
            current &= step.State == StepState.Done || step.State == StepState.NotRun;
            steps.Add(step);
        }

        var unstepped = tests.Where(t => t.Step is null).ToList();
        if (unstepped.Count > 0)
        {
            steps.Add(StepOf(0, "Tests without a step", unstepped, current: false));
        }

        return steps;
    }

    /// <summary>One step's progress from its tests' results.</summary>
    /// <param name="number">The step.</param>
    /// <param name="title">Its title.</param>
    /// <param name="tests">Its tests' results.</param>
    /// <param name="current">No earlier step is left to do: this is the step being worked on, if it is not done.</param>
    private static StepProgress StepOf(int number, string title, List<TestResult> tests, bool current)
    {
        var passed = tests.Count(t => t.Outcome == TestOutcome.Passed);
        var notImplemented = tests.Count(t => t.Outcome == TestOutcome.NotImplemented);
        var failed = tests.Count(t => t.Outcome == TestOutcome.Failed);
        var state = tests.Count == 0 || tests.All(t => t.Outcome == TestOutcome.NotRun) ? StepState.NotRun
            : passed == tests.Count ? StepState.Done
            : passed > 0 || (current && failed > 0) ? StepState.InProgress
            : StepState.NotStarted;
        var failures = Diagnosis.Lead(tests.Select(t => t.Diagnosis).OfType<Diagnosis>());
        return new StepProgress(number, title, tests.Count, passed, failed, notImplemented, state, state == StepState.Done ? tests.Count : 0, failures);
    }
}
