using System.Diagnostics;
using System.Globalization;

namespace ConcurrencyKata.Companion;

/// <summary>What one companion run of dotnet test produced, and how long each part took.</summary>
internal sealed record RunOutcome(RunResults Results, int ExitCode, TimeSpan Build, TimeSpan Test, bool TimedOut, IReadOnlyList<string> Output);

/// <summary>Which tests a board run runs.</summary>
/// <param name="Mode">Learner mode (exercises/) or reference mode (solutions/).</param>
/// <param name="Exercises">The exercises; null for every exercise (the solution file, as the README's dotnet test).</param>
/// <param name="Steps">Only these steps' tests (one exercise only); null for all of them.</param>
/// <param name="Fast">
/// The watch loop's fast path (one exercise, already restored): build only its test project without restoring, then
/// run the built test assembly, with no second MSBuild evaluation. Plain <c>dotnet test</c> otherwise.
/// </param>
internal sealed record TestSelection(KataMode Mode, IReadOnlyList<ExerciseInfo>? Exercises, IReadOnlyList<int>? Steps = null, bool Fast = false);

/// <summary>
/// Runs <c>dotnet test</c> exactly as a learner would, plus a TRX logger into a fresh folder under .kata/, then
/// reads what it wrote. It never interprets the console output as results; it only reads build errors from it,
/// because a failed build writes no TRX.
/// </summary>
internal sealed class TestRunner(KataRepo repo)
{
    /// <summary>Echo dotnet's own output while it runs.</summary>
    public bool Verbose { get; init; }

    /// <summary>The whole run's deadline; the process tree is killed when it passes.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Runs the selected tests and reads their results.</summary>
    /// <param name="selection">Which tests, in which mode.</param>
    /// <param name="onLine">Sees each line dotnet writes, as it comes (for a progress indicator).</param>
    /// <param name="cancel">Stops the run (the dotnet process tree is killed).</param>
    public RunOutcome Run(TestSelection selection, Action<string>? onLine = null, CancellationToken cancel = default)
    {
        var results = Path.Combine(repo.StateDirectory, "results", selection.Mode == KataMode.Learner ? "learner" : "reference");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        Directory.CreateDirectory(results);

        var one = selection.Exercises is { Count: 1 } ? selection.Exercises[0] : null;
        var target = one?.TestProject ?? Path.Combine(repo.Root, KataRepo.SolutionFile);
        var common = new List<string> { "-nologo" };
        if (selection.Mode == KataMode.Reference)
        {
            common.Add("-p:KataTarget=solutions");
        }

        var steps = one is not null ? selection.Steps : null;
        if (steps is { Count: > 0 })
        {
            // The build needs to know which steps are in scope: the systematic step's Coyote rewrite is skipped when
            // it is not (tests/Directory.Build.targets).
            common.Add("-p:KataSteps=" + string.Join("%3B", steps.Select(s => s.ToString(CultureInfo.InvariantCulture))));
        }

        var output = new List<string>();
        var build = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var fast = selection.Fast && one is not null && IsRestored(one, selection.Mode);
        string[] loggers = ["--logger", "trx", "--results-directory", results];
        var testArgs = new List<string> { "test" };
        if (fast)
        {
            var built = Dotnet.Run(["build", target, "-v:q", "-clp:NoSummary", "--no-restore", .. common], repo.Root, Deadline, cancel, onLine: Echo);
            output.AddRange(built.Output);
            build = clock.Elapsed;
            if (!built.Succeeded)
            {
                return new RunOutcome(ResultReader.ReadDirectory(results, output), built.ExitCode, build, TimeSpan.Zero, built.TimedOut, output);
            }

            testArgs.AddRange([one!.TestAssembly(selection.Mode), "--settings", Path.Combine(repo.Root, "tests", "kata.runsettings")]);
        }
        else
        {
            testArgs.Add(target);
            testArgs.AddRange(common);
        }

        if (steps is { Count: > 0 })
        {
            testArgs.AddRange(["--filter", string.Join("|", steps.Select(s => "TestCategory=Step" + s.ToString(CultureInfo.InvariantCulture)))]);
        }

        testArgs.AddRange(loggers);
        var testStart = clock.Elapsed;
        var run = Dotnet.Run(testArgs, repo.Root, Deadline, cancel, onLine: Echo);
        output.AddRange(run.Output);
        var read = ResultReader.ReadDirectory(results, output);
        if (run.TimedOut)
        {
            read = read with { Problems = [.. read.Problems, new RunProblem(null, $"dotnet test did not finish within {Deadline.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes and was stopped.")] };
        }

        if (run.ExitCode != 0 && read.Tests.Count == 0 && read.BuildErrors.Count == 0 && read.Problems.Count == 0)
        {
            var tail = output.Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(8).Select(l => l.Trim());
            read = read with { Problems = [new RunProblem(null, $"dotnet test failed (exit code {run.ExitCode.ToString(CultureInfo.InvariantCulture)}) and wrote no results: " + string.Join(" | ", tail))] };
        }

        return new RunOutcome(read, run.ExitCode, build, clock.Elapsed - testStart, run.TimedOut, output);

        void Echo(string line)
        {
            if (Verbose)
            {
                Console.Error.WriteLine(line);
            }

            onLine?.Invoke(line);
        }
    }

    private static bool IsRestored(ExerciseInfo exercise, KataMode mode) =>
        File.Exists(Path.Combine(Path.GetDirectoryName(exercise.TestProject)!, "obj", mode.Folder(), "project.assets.json"))
        && File.Exists(exercise.TestAssembly(mode));
}
