using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ConcurrencyKata.Companion;

/// <summary>Which code the tests build against.</summary>
internal enum KataMode
{
    /// <summary>exercises/ (learner mode, the default of dotnet test).</summary>
    Learner,

    /// <summary>solutions/ (reference mode, -p:KataTarget=solutions).</summary>
    Reference,
}

/// <summary>How the watch loop runs one exercise's tests (measured in docs/dojo.md, "How fast is the loop").</summary>
internal enum FastStrategy
{
    /// <summary><c>dotnet build --no-restore</c> of the test project, then <c>dotnet test</c> on the built test assembly.</summary>
    BuildThenDll,

    /// <summary><c>dotnet build --no-restore</c>, then <c>dotnet test --no-build</c> on the project.</summary>
    BuildThenTest,

    /// <summary>One <c>dotnet test --no-restore</c> on the project.</summary>
    Test,
}

/// <summary>What one companion run of dotnet test produced, and how long each part took.</summary>
internal sealed record RunOutcome(RunResults Results, int ExitCode, TimeSpan Build, TimeSpan Test, bool TimedOut, IReadOnlyList<string> Output);

/// <summary>
/// Runs <c>dotnet test</c> exactly as a learner would, plus a TRX logger and NUnit's XML output into a fresh
/// folder under .kata/, then reads what they wrote. It never interprets the console output as results; it only
/// reads build errors from it, because a failed build writes no TRX.
/// </summary>
internal sealed partial class TestRunner
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
    /// The watch loop's fast path for one exercise (see <see cref="FastStrategy"/>); null runs plain
    /// <c>dotnet test</c>, as the README says.
    /// </param>
    /// <param name="cancel">Stops the run (the dotnet process tree is killed).</param>
    public RunOutcome Run(KataMode mode, IReadOnlyList<ExerciseInfo>? exercises, FastStrategy? fast = null, CancellationToken cancel = default)
    {
        var results = Path.Combine(_repo.StateDirectory, "results", mode == KataMode.Learner ? "learner" : "reference");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        Directory.CreateDirectory(results);

        var one = exercises is { Count: 1 } ? exercises[0] : null;
        var target = one?.TestProject ?? Path.Combine(_repo.Root, KataRepo.SolutionFile);
        var common = new List<string> { "-nologo" };
        if (mode == KataMode.Reference)
        {
            common.Add("-p:KataTarget=solutions");
        }

        var output = new List<string>();
        var build = TimeSpan.Zero;
        var started = Stopwatch.StartNew();
        var restored = one is not null && IsRestored(one, mode);
        if (one is null || !restored)
        {
            fast = null;
        }

        string[] loggers = ["--logger", "trx", "--results-directory", results];
        string[] nunitXml = ["--", "NUnit.TestOutputXml=" + results];
        var testArgs = new List<string> { "test" };
        if (fast is FastStrategy.BuildThenTest or FastStrategy.BuildThenDll)
        {
            // 1. Build only the one test project (and what it references), without restoring.
            var buildArgs = new List<string> { "build", target, "-v:q", "-clp:NoSummary", "--no-restore" };
            buildArgs.AddRange(common);
            var (code, timed) = Dotnet(buildArgs, output, cancel);
            build = started.Elapsed;
            if (code != 0 || timed)
            {
                return new RunOutcome(ResultReader.ReadDirectory(results, output), code, build, TimeSpan.Zero, timed, output);
            }

            // 2. Run the built tests: straight from the test assembly (no second MSBuild evaluation), or --no-build.
            var dll = fast == FastStrategy.BuildThenDll ? TestAssembly(one!, mode) : null;
            if (dll is not null)
            {
                testArgs.AddRange([dll, "--settings", Path.Combine(_repo.Root, "tests", "kata.runsettings")]);
            }
            else
            {
                testArgs.AddRange([target, "--no-build"]);
                testArgs.AddRange(common);
            }
        }
        else
        {
            testArgs.Add(target);
            if (fast == FastStrategy.Test)
            {
                testArgs.Add("--no-restore");
            }

            testArgs.AddRange(common);
        }

        testArgs.AddRange(loggers);
        testArgs.AddRange(nunitXml);
        var testStart = started.Elapsed;
        var (exit, timedOut) = Dotnet(testArgs, output, cancel);
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

    /// <summary>The built test assembly of an exercise: tests/NN-name/bin/&lt;mode&gt;/Debug/net10.0/&lt;AssemblyName&gt;.dll, if it exists.</summary>
    private static string? TestAssembly(ExerciseInfo exercise, KataMode mode)
    {
        var project = File.ReadAllText(exercise.TestProject);
        var name = AssemblyNameTag().Match(project) is { Success: true } m ? m.Groups[1].Value.Trim() : Path.GetFileNameWithoutExtension(exercise.TestProject);
        var folder = Path.Combine(Path.GetDirectoryName(exercise.TestProject)!, "bin", mode == KataMode.Learner ? "exercises" : "solutions", "Debug");
        if (!Directory.Exists(folder))
        {
            return null;
        }

        return Directory.GetFiles(folder, name + ".dll", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}ref{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
    }

    [GeneratedRegex("<AssemblyName>([^<]+)</AssemblyName>")]
    private static partial Regex AssemblyNameTag();

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
