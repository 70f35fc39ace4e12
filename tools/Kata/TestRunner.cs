using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace ConcurrencyKata.Companion;

/// <summary>Which code the tests build against.</summary>
internal enum KataMode
{
    /// <summary>exercises/ (learner mode, the default of dotnet test).</summary>
    Learner,

    /// <summary>solutions/ (reference mode, -p:KataTarget=solutions).</summary>
    Reference,
}

/// <summary>What one companion run of dotnet test produced, and how long each part took.</summary>
internal sealed record RunOutcome(RunResults Results, int ExitCode, TimeSpan Build, TimeSpan Test, bool TimedOut, IReadOnlyList<string> Output);

/// <summary>
/// Runs <c>dotnet test</c> exactly as a learner would, plus a TRX logger and NUnit's XML output into a fresh
/// folder under .kata/, then reads what they wrote. It never interprets the console output as results; it only
/// reads build errors from it, because a failed build writes no TRX.
/// </summary>
internal sealed class TestRunner
{
    private readonly KataRepo _repo;

    public TestRunner(KataRepo repo) => _repo = repo;

    /// <summary>Echo dotnet's own output while it runs.</summary>
    public bool Verbose { get; init; }

    /// <summary>The whole run's deadline; the process tree is killed when it passes.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Runs the tests of <paramref name="exercises"/> (every exercise: the solution file, as the README's
    /// <c>dotnet test</c> does; one exercise: its test project only).
    /// </summary>
    /// <param name="mode">Learner mode (exercises/) or reference mode (solutions/).</param>
    /// <param name="exercises">The exercises to run; null for every exercise.</param>
    /// <param name="fast">
    /// The watch loop's fast path: <c>dotnet build --no-restore</c> of the one test project, then
    /// <c>dotnet test --no-build</c> (restore is skipped once the project has been restored).
    /// </param>
    /// <param name="cancel">Stops the run (the dotnet process tree is killed).</param>
    public RunOutcome Run(KataMode mode, IReadOnlyList<ExerciseInfo>? exercises, bool fast = false, CancellationToken cancel = default)
    {
        var results = Path.Combine(_repo.StateDirectory, "results", mode == KataMode.Learner ? "learner" : "reference");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        Directory.CreateDirectory(results);

        var target = exercises is { Count: 1 } ? exercises[0].TestProject : Path.Combine(_repo.Root, KataRepo.SolutionFile);
        var common = new List<string> { "-nologo" };
        if (mode == KataMode.Reference)
        {
            common.Add("-p:KataTarget=solutions");
        }

        var output = new List<string>();
        var build = TimeSpan.Zero;
        var started = Stopwatch.StartNew();
        var restored = exercises is { Count: 1 } && IsRestored(exercises[0], mode);
        bool timedOut = false;
        if (fast && exercises is { Count: 1 })
        {
            var buildArgs = new List<string> { "build", target, "-v:q", "-clp:NoSummary" };
            if (restored)
            {
                buildArgs.Add("--no-restore");
            }

            buildArgs.AddRange(common);
            var (code, timed) = Dotnet(buildArgs, output, cancel);
            build = started.Elapsed;
            if (code != 0 || timed)
            {
                return new RunOutcome(ResultReader.ReadDirectory(results, output), code, build, TimeSpan.Zero, timed, output);
            }
        }

        var testArgs = new List<string> { "test", target };
        if (fast && exercises is { Count: 1 })
        {
            testArgs.Add("--no-build");
        }

        testArgs.AddRange(common);
        testArgs.AddRange(["--logger", "trx", "--results-directory", results, "--", "NUnit.TestOutputXml=" + results]);
        var testStart = started.Elapsed;
        var (exit, timedOutTest) = Dotnet(testArgs, output, cancel);
        timedOut |= timedOutTest;
        var read = ResultReader.ReadDirectory(results, output);
        if (timedOut)
        {
            read = read with { Problems = [.. read.Problems, new RunProblem(null, $"dotnet test did not finish within {Deadline.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes and was stopped.")] };
        }

        if (exit != 0 && read.Tests.Count == 0 && read.BuildErrors.Count == 0 && read.Problems.Count == 0)
        {
            var tail = output.Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(8).Select(l => l.Trim());
            read = read with { Problems = [new RunProblem(null, $"dotnet test failed (exit code {exit.ToString(CultureInfo.InvariantCulture)}) and wrote no results: " + string.Join(" | ", tail))] };
        }

        return new RunOutcome(read, exit, build, started.Elapsed - testStart, timedOut, output);
    }

    private static bool IsRestored(ExerciseInfo exercise, KataMode mode)
    {
        var folder = mode == KataMode.Learner ? "exercises" : "solutions";
        return File.Exists(Path.Combine(Path.GetDirectoryName(exercise.TestProject)!, "obj", folder, "project.assets.json"));
    }

    private (int ExitCode, bool TimedOut) Dotnet(List<string> args, List<string> output, CancellationToken cancel)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // The companion's terminal settings are not the build's business: dotnet's own output is read, not shown.
        info.Environment["MSBUILDTERMINALLOGGER"] = "off";

        var lines = new ConcurrentQueue<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        if (!process.Start())
        {
            throw new KataException("Could not start dotnet. Is the .NET SDK installed and on the PATH?");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var registration = cancel.Register(() => Kill(process));
        var finished = process.WaitForExit(Deadline);
        if (!finished)
        {
            Kill(process);
        }

        process.WaitForExit();
        output.AddRange(lines);
        cancel.ThrowIfCancellationRequested();
        return (finished ? process.ExitCode : -1, !finished);

        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lines.Enqueue(line);
            if (Verbose)
            {
                Console.Error.WriteLine(line);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
