namespace ConcurrencyKata.Companion;

/// <summary>What the tests said about one run of one catalog unit.</summary>
/// <param name="Ok">An entry was rejected with its rule on the board; a stage passed its steps and failed a later one.</param>
/// <param name="Summary">One line for the report ("rejected: 14 of 49 tests fail; the board names the rule").</param>
/// <param name="Detail">Why it is not ok, for the maintainer: what the board showed instead, the build errors, ….</param>
/// <param name="FailedTests">The tests that failed in this run (ClassName.Name), for the coverage check.</param>
/// <param name="NotRunTests">The tests that did not run (an earlier step had failed), for the coverage check.</param>
/// <param name="FailingStep">The earliest step with a failing test, if any.</param>
internal sealed record Verdict(bool Ok, string Summary, string? Detail, IReadOnlyList<string> FailedTests, IReadOnlyList<string> NotRunTests, int? FailingStep)
{
    /// <summary>A unit that never got as far as a test run (a patch that does not apply, a build that fails).</summary>
    public static Verdict Broken(string summary, string? detail) => new(false, summary, detail, [], [], null);
}

/// <summary>
/// Judges a unit's run the way a learner would meet it: through the board. An entry is rejected only when the board
/// built from its results — the same board <c>kata</c> shows — leads with its rule: the entry's <c>Expect</c> text is
/// among the diagnoses shown for the earliest failing step. A stage is green up to its step when every test of Steps
/// 1..N passes and some later test fails.
/// </summary>
internal static class Judge
{
    /// <summary>Judges one run of a known-wrong entry.</summary>
    public static Verdict Entry(CatalogEntry entry, ExerciseInfo exercise, RunResults results)
    {
        var tests = results.Tests.Where(t => t.Exercise == entry.Exercise).ToList();
        var failed = tests.Where(t => t.Outcome is TestOutcome.Failed or TestOutcome.NotImplemented).ToList();
        var notRun = tests.Where(t => t.Outcome == TestOutcome.NotRun).Select(Key).ToList();
        if (tests.Count == 0)
        {
            return Verdict.Broken("NO RESULTS", "the test run wrote no results: " + string.Join(" ", results.Problems.Select(p => p.Text)));
        }

        var failingStep = failed.Select(t => t.Step ?? 0).DefaultIfEmpty().Min();
        if (failed.Count == 0)
        {
            return new Verdict(false, "NOT REJECTED", $"all {tests.Count - notRun.Count} tests that ran pass: the tests miss this bug ({entry.Bug})", [], notRun, null);
        }

        var board = BoardBuilder.Build(KataMode.Learner, [exercise], results with { Tests = tests });
        var shown = board.Next?.Failures ?? [];
        var expect = Normalize(entry.Expect);
        var ran = tests.Count - notRun.Count;
        var named = failed.Where(t => Normalize(t.Message).Contains(expect, StringComparison.Ordinal)).ToList();
        var failedKeys = failed.Select(Key).ToList();
        if (expect.Length > 0 && shown.FirstOrDefault(d => d.Text.Contains(expect, StringComparison.Ordinal)) is { } onBoard)
        {
            return new Verdict(true, $"rejected: {failed.Count} of {ran} tests fail; the board names the rule (Step {failingStep}, {onBoard.Test})", null, failedKeys, notRun, failingStep);
        }

        var first = shown.Count > 0 ? shown[0] : null;
        var boardSays = first is null ? "nothing" : $"\"{first}\"";
        return named.Count > 0
            ? new Verdict(false, "rejected, but the board does not show the rule",
                $"the board leads with Step {failingStep}: {boardSays}; \"{entry.Expect}\" is only in {named[0].Name} (Step {named[0].Step})", failedKeys, notRun, failingStep)
            : new Verdict(false, "rejected, but no test names the rule",
                $"no failure says \"{entry.Expect}\"; the board leads with Step {failingStep}: {boardSays}", failedKeys, notRun, failingStep);
    }

    /// <summary>Judges a stage: Steps 1..N green, some later step red.</summary>
    public static Verdict Stage(CatalogStage stage, RunResults results)
    {
        var tests = results.Tests.Where(t => t.Exercise == stage.Exercise).ToList();
        if (tests.Count == 0)
        {
            return Verdict.Broken("NO RESULTS", "the test run wrote no results: " + string.Join(" ", results.Problems.Select(p => p.Text)));
        }

        var mine = tests.Where(t => t.Step is { } s && s <= stage.Step).ToList();
        var later = tests.Where(t => t.Step is { } s && s > stage.Step).ToList();
        var broken = mine.Where(t => t.Outcome != TestOutcome.Passed).ToList();
        var steps = stage.Step == 1 ? "Step 1" : $"Steps 1-{stage.Step}";
        if (broken.Count > 0)
        {
            var b = broken[0];
            return new Verdict(false, $"NOT GREEN UP TO STEP {stage.Step}",
                $"{broken.Count} test(s) of {steps} do not pass, e.g. Step {b.Step} {b.Name}: {b.Diagnosis?.Text ?? b.Outcome.ToString()}", [], [], null);
        }

        if (mine.Count == 0)
        {
            return new Verdict(false, "NO TEST OF ITS STEPS", $"no test of {steps} ran", [], [], null);
        }

        var laterFailed = later.Count(t => t.Outcome is TestOutcome.Failed or TestOutcome.NotImplemented);
        return laterFailed > 0
            ? new Verdict(true, $"green up to Step {stage.Step}: all {mine.Count} tests of {steps} pass; later steps fail", null, [], [], null)
            : new Verdict(false, "LATER STEPS GREEN TOO",
                later.Count == 0 ? "no test of a later step ran" : $"every later test passes too: Step {stage.Step + 1} is done by accident, or the stage is not what Step {stage.Step} asks for", [], [], null);
    }

    /// <summary>How the coverage check names a test.</summary>
    public static string Key(TestResult test) => test.ClassName + "." + test.Name;

    /// <summary>Whitespace folded, so that an <c>Expect</c> line matches a message however it was wrapped.</summary>
    public static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
