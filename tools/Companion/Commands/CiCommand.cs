using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata ci</c>.</summary>
internal sealed class CiSettings : KataSettings
{
    [CommandOption("--race-repeat <N>")]
    [Description("How many times each data-race entry (Race:) is judged (default 3; `kata catalog ENTRY --repeat 20` proves more).")]
    [DefaultValue(3)]
    public int RaceRepeat { get; init; } = 3;

    [CommandOption("--lanes <N>")]
    [Description("Catalog builds side by side (default 2).")]
    [DefaultValue(2)]
    public int Lanes { get; init; } = 2;

    [CommandOption("--jobs <N>")]
    [Description("Catalog test runs side by side (default 2).")]
    [DefaultValue(2)]
    public int Jobs { get; init; } = 2;
}

/// <summary>
/// <c>kata ci</c>: everything that decides whether a change lands, in phases, each timed. (1) reference mode, the
/// README's <c>dotnet test -p:KataTarget=solutions</c>: every test passes; (2) learner mode, the README's
/// <c>dotnet test</c>: every exercise test fails fast with the stub's NotImplementedException naming its step;
/// (3) the catalog, strict: every known-wrong entry rejected with its rule on the board (data races several times),
/// every stage green up to its step, every test failing on some entry; (4) the benchmarks dry-run (alongside the
/// catalog); (5) no test run created a snapshot, and nothing the tests started is still running. The last line is
/// "N passed, N failed".
/// </summary>
internal sealed class CiCommand : Command<CiSettings>
{
    /// <summary>A test slower than this on the stubs is not failing fast.</summary>
    private static readonly TimeSpan StubTestLimit = TimeSpan.FromSeconds(2);

    /// <summary>The whole learner-mode run (build included) must stay under this.</summary>
    private static readonly TimeSpan LearnerRunLimit = TimeSpan.FromSeconds(90);

    public override int Execute(CommandContext context, CiSettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var ci = new CiLog();
        var output = Path.Combine(repo.Root, "artifacts", "ci");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        Directory.CreateDirectory(output);
        var clock = Stopwatch.StartNew();

        ci.Phase("reference", "1. reference mode: dotnet test -p:KataTarget=solutions", () => Reference(repo, output, ci, cancellationToken));
        ci.Phase("learner", "2. learner mode: dotnet test (every exercise test fails fast, naming its step)", () => Learner(repo, output, ci, cancellationToken));

        // The benchmarks' dry run builds in Release and mostly waits on processes: it runs alongside the catalog.
        var benchmarkLog = new List<string>();
        var benchmarks = Task.Factory.StartNew(
            () => Benchmarks(repo, output, benchmarkLog, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        ci.Phase("catalog", "3. known-wrong implementations and step-by-step stages (kata catalog --strict)", () => CatalogPhase(repo, settings, ci, cancellationToken));
        ci.Phase("benchmarks (wait)", "4. benchmarks keep compiling and running (BenchmarkDotNet --job dry, alongside the catalog; no timing is asserted)", () =>
        {
            var (ok, line, seconds) = benchmarks.GetAwaiter().GetResult();
            ci.Count(ok, line + $" ({seconds} s, alongside the catalog)");
            if (!ok)
            {
                benchmarkLog.TakeLast(40).ToList().ForEach(ci.Write);
            }
        });
        ci.Phase("leftovers", "5. leftovers", () => Leftovers(repo, ci));

        ci.Write("");
        ci.Write("ci: phases: " + string.Join(", ", ci.Times.Select(t => $"{t.Name} {t.Seconds} s")));
        ci.Write($"ci: finished in {clock.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s");
        ci.Write($"{ci.Passed} passed, {ci.Failed} failed");
        return ci.Failed == 0 ? 0 : 1;
    }

    private static void Reference(KataRepo repo, string output, CiLog ci, CancellationToken cancel)
    {
        var results = Path.Combine(output, "reference");
        var run = ReadmeTest(repo, ["-p:KataTarget=solutions"], results, Path.Combine(output, "reference.log"), ci, cancel);
        var tests = run.Results.Tests;
        var failed = tests.Where(t => t.Outcome != TestOutcome.Passed).ToList();
        ci.Add(tests.Count - failed.Count, failed.Count);
        foreach (var f in failed.Take(20))
        {
            ci.Write($"FAIL: reference mode: {f.ClassName}.{f.Name}: {f.Diagnosis?.Text ?? f.Outcome.ToString()}");
        }

        var ok = run.ExitCode == 0 && failed.Count == 0 && tests.Count > 0 && run.Results.Problems.Count == 0;
        if (ok)
        {
            ci.Write($"ok:   reference mode: all {tests.Count} tests pass ({run.Seconds} s)");
        }
        else
        {
            run.Results.Problems.Select(p => "  " + p.Text).Concat(run.Results.BuildErrors.Select(e => "  " + e)).Take(20).ToList().ForEach(ci.Write);
            ci.Count(false, $"reference mode: {tests.Count - failed.Count} of {tests.Count} tests passed (exit code {run.ExitCode})", countOnlyIfNoneFailed: failed.Count > 0);
        }
    }

    private static void Learner(KataRepo repo, string output, CiLog ci, CancellationToken cancel)
    {
        var results = Path.Combine(output, "learner");
        var clock = Stopwatch.StartNew();
        var run = ReadmeTest(repo, [], results, Path.Combine(output, "learner.log"), ci, cancel);
        var whole = clock.Elapsed;
        var tests = run.Results.Tests.Where(t => t.Exercise is not null).ToList();
        var bad = tests.Where(t => !FailsFastByName(t)).ToList();
        ci.Add(tests.Count - bad.Count, bad.Count);
        foreach (var t in bad.Take(20))
        {
            var why = t.Outcome == TestOutcome.Passed ? "passed on the stubs"
                : t.Duration >= StubTestLimit ? $"took {t.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
                : "failed without the stub's NotImplementedException naming its step and the README";
            ci.Write($"FAIL: learner mode: {t.Exercise}: {t.Name} {why}: {t.Diagnosis?.Text}");
        }

        var slowest = tests.Count == 0 ? 0 : tests.Max(t => t.Duration.TotalSeconds);
        if (tests.Count == 0)
        {
            ci.Count(false, "learner mode ran no test");
        }
        else if (bad.Count == 0 && whole < LearnerRunLimit)
        {
            ci.Write($"ok:   learner mode: all {tests.Count} exercise tests fail on the stubs, each with a NotImplementedException naming its step (slowest test {slowest.ToString("0.00", CultureInfo.InvariantCulture)} s, whole run {whole.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s)");
        }
        else
        {
            ci.Count(false, $"learner mode: {bad.Count} of {tests.Count} tests did not fail fast and by name; whole run {whole.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s (limit {LearnerRunLimit.TotalSeconds} s)", countOnlyIfNoneFailed: bad.Count > 0);
        }
    }

    /// <summary>On the stubs, a test fails fast with a NotImplementedException that names a step and the README.</summary>
    private static bool FailsFastByName(TestResult test) =>
        test.Outcome == TestOutcome.NotImplemented
        && test.Duration < StubTestLimit
        && System.Text.RegularExpressions.Regex.IsMatch(test.Message, @"Step \d")
        && test.Message.Contains("README", StringComparison.Ordinal);

    private static void CatalogPhase(KataRepo repo, CiSettings settings, CiLog ci, CancellationToken cancel)
    {
        var catalog = Catalog.Load(repo);
        var options = new CatalogOptions(Repeat: 1, RaceRepeat: Math.Max(1, settings.RaceRepeat), Strict: true, BuildLanes: Math.Max(1, settings.Lanes), TestWorkers: Math.Max(1, settings.Jobs));
        var logFile = Path.Combine(repo.Root, "artifacts", "ci", "catalog.log");
        using var writer = new StreamWriter(logFile);
        var report = CatalogCommand.Run(repo, catalog, catalog.Units, options, showTestOutput: false, line =>
        {
            lock (writer)
            {
                writer.WriteLine(line);
                writer.Flush();
                ci.Write(line);
            }
        }, cancel);
        foreach (var unit in report.Units)
        {
            ci.Add(unit.Ok ? 1 : 0, unit.Ok ? 0 : 1);
        }

        foreach (var coverage in report.Coverage)
        {
            ci.Add(coverage.NeverFailed.Count == 0 ? 1 : 0, coverage.NeverFailed.Count == 0 ? 0 : 1);
        }
    }

    private static (bool Ok, string Line, string Seconds) Benchmarks(KataRepo repo, string output, List<string> log, CancellationToken cancel)
    {
        var run = Dotnet.Run(["run", "-c", "Release", "--project", "benchmarks/Kata.Benchmarks", "--", "--filter", "*", "--job", "dry"],
            repo.Root, TimeSpan.FromMinutes(15), cancel);
        log.AddRange(run.Output);
        File.WriteAllLines(Path.Combine(output, "benchmarks.log"), run.Output);
        var executed = run.Output.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"executed benchmarks: (\d+)")).LastOrDefault(m => m.Success);
        var failed = run.Output.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, "(Benchmark|Build) failed|Exception"));
        var ok = run.Succeeded && executed is not null && !failed;
        var seconds = run.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        return (ok, ok ? $"benchmarks: dry run of every benchmark (executed benchmarks: {executed!.Groups[1].Value})" : "benchmarks: the dry run failed", seconds);
    }

    private static void Leftovers(KataRepo repo, CiLog ci)
    {
        var status = Dotnet.RunProcess("git", ["status", "--porcelain", "--untracked-files=all"], repo.Root, TimeSpan.FromMinutes(1), CancellationToken.None);
        var snapshots = status.Output.Where(l => l.Contains("__snapshots__", StringComparison.Ordinal)).ToList();
        snapshots.ForEach(ci.Write);
        ci.Count(snapshots.Count == 0, snapshots.Count == 0 ? "no snapshot created or changed by the test runs" : "a test run created or changed a snapshot: review it, commit it, and run again");

        var leftovers = LeftoverProcesses(repo);
        leftovers.ForEach(ci.Write);
        ci.Count(leftovers.Count == 0, leftovers.Count == 0 ? "no process started by the tests is still running" : "processes started by the tests outlived them");
    }

    /// <summary>Processes whose command line names a file of this repository, other than this one and its parents.</summary>
    private static List<string> LeftoverProcesses(KataRepo repo)
    {
        if (OperatingSystem.IsWindows())
        {
            return [];
        }

        var ps = Dotnet.RunProcess("ps", ["-eo", "pid=,ppid=,args="], repo.Root, TimeSpan.FromMinutes(1), CancellationToken.None);
        var rows = ps.Output.Select(l => l.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length == 3 && int.TryParse(p[0], out _) && int.TryParse(p[1], out _))
            .Select(p => (Pid: int.Parse(p[0], CultureInfo.InvariantCulture), Parent: int.Parse(p[1], CultureInfo.InvariantCulture), Args: p[2]))
            .ToList();
        var mine = new HashSet<int>();
        for (int? pid = Environment.ProcessId; pid is int p && mine.Add(p);)
        {
            pid = rows.FirstOrDefault(r => r.Pid == p).Parent is var parent && parent > 0 ? parent : null;
        }

        return rows.Where(r => !mine.Contains(r.Pid) && r.Args.Contains(repo.Root + "/", StringComparison.Ordinal)
                && !r.Args.Contains("build-server", StringComparison.Ordinal) && !r.Args.StartsWith("ps ", StringComparison.Ordinal))
            .Select(r => $"  {r.Pid} {r.Args}")
            .ToList();
    }

    /// <summary>Runs the README's test command with a TRX logger into <paramref name="results"/>.</summary>
    private static (RunResults Results, int ExitCode, string Seconds) ReadmeTest(KataRepo repo, string[] mode, string results, string logFile, CiLog ci, CancellationToken cancel)
    {
        List<string> args = ["test", .. mode, "--logger", "trx", "--results-directory", results];
        ci.Write("$ dotnet " + string.Join(' ', args));
        var run = Dotnet.Run(args, repo.Root, TimeSpan.FromMinutes(30), cancel);
        File.WriteAllLines(logFile, run.Output);
        run.Output.Where(l => l.StartsWith("Passed!", StringComparison.Ordinal) || l.StartsWith("Failed!", StringComparison.Ordinal)).ToList().ForEach(ci.Write);
        var read = ResultReader.ReadDirectory(results, run.Output);
        return (read, run.ExitCode, run.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture));
    }

    /// <summary>CI's running count and log; every line also goes to stdout as it is written.</summary>
    private sealed class CiLog
    {
        private readonly object _sync = new();

        public int Passed { get; private set; }

        public int Failed { get; private set; }

        public List<(string Name, string Seconds)> Times { get; } = [];

        public void Write(string line)
        {
            lock (_sync)
            {
                Console.Out.WriteLine(line);
            }
        }

        public void Add(int passed, int failed)
        {
            lock (_sync)
            {
                Passed += passed;
                Failed += failed;
            }
        }

        /// <summary>One check: ok or FAIL, counted once (unless its failures were already counted one by one).</summary>
        public void Count(bool ok, string what, bool countOnlyIfNoneFailed = false)
        {
            Write((ok ? "ok:   " : "FAIL: ") + what);
            if (!countOnlyIfNoneFailed)
            {
                Add(ok ? 1 : 0, ok ? 0 : 1);
            }
        }

        /// <summary>Runs one phase under its heading, and keeps its time under its short name.</summary>
        public void Phase(string name, string heading, Action body)
        {
            Write("");
            Write("== " + heading);
            var clock = Stopwatch.StartNew();
            try
            {
                body();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Count(false, $"{name}: {e.GetType().Name}: {e.Message}");
            }

            Times.Add((name, clock.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)));
        }
    }
}
