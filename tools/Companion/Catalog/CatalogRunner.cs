using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using System.Xml.Linq;

namespace ConcurrencyKata.Companion;

/// <summary>How <see cref="CatalogRunner"/> runs.</summary>
/// <param name="Repeat">How many times each unit's tests run (each run must reject it; the build is shared).</param>
/// <param name="RaceRepeat">How many times an entry marked <c>Race:</c> runs, when that is more than <paramref name="Repeat"/>.</param>
/// <param name="Strict">Fail when some test of an exercise whose whole catalog ran fails on no entry (docs/testing.md, rule 18).</param>
/// <param name="Filter">A <c>dotnet test --filter</c> for every run (exploration; turns the coverage check off).</param>
/// <param name="BuildLanes">How many builds run side by side, each in a folder of its own.</param>
/// <param name="TestWorkers">How many test runs run side by side.</param>
/// <param name="UpdateCoverageMap">Write catalog/&lt;exercise&gt;/coverage.tsv from what the coverage check found.</param>
/// <param name="DeadlineScale">KATA_DEADLINE_SCALE for the entries' runs: wrong code is expected to hang, and a shorter
/// deadline only decides how long the tests wait before naming the bug. Stages are correct code: they keep 1.</param>
internal sealed record CatalogOptions(
    int Repeat = 1,
    int RaceRepeat = 1,
    bool Strict = false,
    string? Filter = null,
    int BuildLanes = 2,
    int TestWorkers = 2,
    double DeadlineScale = 0.15,
    bool UpdateCoverageMap = false);

/// <summary>The outcome of one unit: every run's verdict, and where the time went.</summary>
internal sealed record UnitReport(CatalogUnit Unit, IReadOnlyList<Verdict> Runs, TimeSpan Build, TimeSpan Test)
{
    /// <summary>Every run was ok (and there was one).</summary>
    public bool Ok => Runs.Count > 0 && Runs.All(r => r.Ok);
}

/// <summary>Whether each test of an exercise was seen to fail on some known-wrong entry.</summary>
/// <param name="Exercise">The exercise.</param>
/// <param name="Tests">How many tests it has.</param>
/// <param name="NeverFailed">Its tests that failed on no entry.</param>
/// <param name="ExtraRuns">Test runs the check took beyond the entries' own.</param>
/// <param name="MapOutOfDate">Some test had to be searched for: catalog/&lt;exercise&gt;/coverage.tsv does not name an entry it fails on.</param>
internal sealed record CoverageReport(string Exercise, int Tests, IReadOnlyList<string> NeverFailed, int ExtraRuns, bool MapOutOfDate);

/// <summary>Everything a catalog run found.</summary>
internal sealed record CatalogReport(IReadOnlyList<UnitReport> Units, IReadOnlyList<CoverageReport> Coverage, TimeSpan Elapsed)
{
    /// <summary>Every unit ok, and (when it was checked) every test covered.</summary>
    public bool Ok(bool strict) => Units.All(u => u.Ok) && (!strict || Coverage.All(c => c.NeverFailed.Count == 0));
}

/// <summary>
/// Runs the kata's tests against catalog units and judges them (<see cref="Judge"/>). Each unit is laid out like
/// solutions/ (<see cref="Workspace"/>) and built through the normal build switch, one build per unit:
/// <c>dotnet build tests/&lt;exercise&gt; -p:KataDir=&lt;lane&gt;/ -p:KataNoDebugAsserts=true</c>, so the Coyote rewrite and
/// everything else happen as in any build, and the solution's Debug.Asserts are gone as in a learner's code. Builds
/// share work: each build lane is one folder whose content is swapped from unit to unit, file by file, so that an
/// incremental build recompiles only the learner's project the unit changed (the tests are compiled once per lane),
/// and the Coyote rewrite redoes only that assembly. A unit's built output is copied to its own folder and its tests
/// run from there while the lane builds the next unit. Test runs stop after the earliest failing step
/// (KATA_STOP_AFTER_FAILING_STEP): that step is what the board shows and what the verdict needs. The coverage check
/// then runs the tests no entry failed against the entries that never reached them.
/// </summary>
internal sealed class CatalogRunner(KataRepo repo, CatalogOptions options, Action<string> log)
{
    private readonly ConcurrentDictionary<string, RunResults> _lastResults = new(StringComparer.Ordinal);

    /// <summary>Guards <see cref="_runSettingsWritten"/>: test workers ask for the run settings at once.</summary>
    private readonly object _runSettingsSync = new();

    /// <summary>Whether <see cref="RunSettings"/> has written the catalog's run settings (guarded by <see cref="_runSettingsSync"/>).</summary>
    private bool _runSettingsWritten;

    /// <summary>Echo each unit's test output (for a single unit, explored by hand).</summary>
    public bool ShowTestOutput { get; init; }

    /// <summary>Runs <paramref name="units"/> and judges them; <paramref name="wholeExercises"/> are the exercises whose every entry is among them (coverage is checked for those).</summary>
    public CatalogReport Run(IReadOnlyList<CatalogUnit> units, IReadOnlyCollection<string> wholeExercises, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        RestoreCoyote(cancel);
        var reports = new ConcurrentDictionary<CatalogUnit, UnitReport>();
        var pending = new ConcurrentQueue<CatalogUnit>(units);
        var built = Channel.CreateBounded<(CatalogUnit Unit, string Run, TimeSpan Build)>(Math.Max(1, options.TestWorkers));

        var lanes = Enumerable.Range(1, Math.Max(1, options.BuildLanes)).Select(lane => Task.Factory.StartNew(() =>
        {
            var restored = new HashSet<string>(StringComparer.Ordinal);
            while (pending.TryDequeue(out var unit))
            {
                cancel.ThrowIfCancellationRequested();
                var (run, buildTime, failure) = Build(unit, lane, restored, cancel);
                if (failure is not null)
                {
                    reports[unit] = new UnitReport(unit, [failure], buildTime, TimeSpan.Zero);
                    log(Line(reports[unit]));
                    continue;
                }

                built.Writer.WriteAsync((unit, run!, buildTime), cancel).AsTask().GetAwaiter().GetResult();
            }
        }, cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();

        var testers = Enumerable.Range(1, Math.Max(1, options.TestWorkers)).Select(_ => Task.Factory.StartNew(() =>
        {
            while (built.Reader.WaitToReadAsync(cancel).AsTask().GetAwaiter().GetResult())
            {
                while (built.Reader.TryRead(out var job))
                {
                    var (verdicts, testTime) = Test(job.Unit, job.Run, cancel);
                    reports[job.Unit] = new UnitReport(job.Unit, verdicts, job.Build, testTime);
                    log(Line(reports[job.Unit]));
                }
            }
        }, cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();

        try
        {
            Task.WaitAll([.. lanes], cancel);
        }
        finally
        {
            built.Writer.TryComplete();
        }

        Task.WaitAll([.. testers], cancel);
        var ordered = units.Select(u => reports[u]).ToList();
        var coverage = options.Filter is null ? Coverage(ordered, wholeExercises, cancel) : [];
        return new CatalogReport(ordered, coverage, clock.Elapsed);
    }

    /// <summary>
    /// Restores the Coyote tool once, before the lanes build: a build restores it when it is missing, but two lanes
    /// doing that at once on a fresh clone break each other's restore.
    /// </summary>
    private void RestoreCoyote(CancellationToken cancel)
    {
        var folder = Path.Combine(repo.Root, "build", "coyote");
        if (Directory.Exists(folder))
        {
            var restore = Dotnet.Run(["tool", "restore"], folder, TimeSpan.FromMinutes(5), cancel);
            if (!restore.Succeeded)
            {
                log("catalog: dotnet tool restore in build/coyote failed: " + string.Join(" ", restore.Output.TakeLast(3)));
            }
        }
    }

    /// <summary>The one-line report of a unit.</summary>
    public static string Line(UnitReport report)
    {
        var first = report.Runs.FirstOrDefault(r => !r.Ok) ?? report.Runs[0];
        var runs = report.Runs.Count > 1 ? $" [{report.Runs.Count(r => r.Ok)} of {report.Runs.Count} runs]" : "";
        var time = $"(build {Seconds(report.Build)} s, tests {Seconds(report.Test)} s)";
        var text = $"  {report.Unit.Id,-62} {first.Summary}{runs} {time}";
        return first.Detail is null || report.Ok ? text : text + Environment.NewLine + "      " + first.Detail;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Lays the unit out, builds it in its lane and copies the built tests into the unit's own folder.</summary>
    private (string? Run, TimeSpan Build, Verdict? Failure) Build(CatalogUnit unit, int lane, HashSet<string> restored, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var work = unit.WorkFolder(repo);
        var source = Path.Combine(work, "source");
        if (Workspace.Materialize(repo, unit, source) is { } notLaidOut)
        {
            return (null, clock.Elapsed, Verdict.Broken("PATCH DOES NOT APPLY", notLaidOut));
        }

        var laneFolder = Path.Combine(repo.Root, "artifacts", "catalog", "lanes", lane.ToString(CultureInfo.InvariantCulture));
        Workspace.Sync(source, laneFolder, [unit.Exercise, .. Workspace.Dependencies(repo, unit.Exercise)]);

        var exercise = repo.Resolve(unit.Exercise);
        var outputName = "catalog-" + lane.ToString(CultureInfo.InvariantCulture);
        List<string> args =
        [
            "build", exercise.TestProject, "-nologo", "-v:q", "-clp:NoSummary",
            "-p:KataDir=" + laneFolder + Path.DirectorySeparatorChar, "-p:KataOutputName=" + outputName, "-p:KataNoDebugAsserts=true",
            // Analyzers are the learner's help while writing code; a known-wrong entry is judged by the tests alone, and
            // they cost more than the compile itself.
            "-p:RunAnalyzers=false",
        ];
        if (!restored.Add(unit.Exercise))
        {
            args.Add("--no-restore");
        }

        var result = Dotnet.Run(args, repo.Root, TimeSpan.FromMinutes(10), cancel);
        File.WriteAllLines(Path.Combine(work, "build.log"), result.Output);
        if (!result.Succeeded)
        {
            restored.Remove(unit.Exercise);
            var errors = ResultReader.ReadBuildErrors(result.Output);
            var detail = errors.Count > 0 ? string.Join("; ", errors.Take(3)) : string.Join(" | ", result.Output.Where(l => l.Trim().Length > 0).TakeLast(5));
            return (null, clock.Elapsed, Verdict.Broken(result.TimedOut ? "BUILD TIMED OUT" : "DOES NOT COMPILE", detail + $" (see {repo.Relative(work)}/build.log)"));
        }

        var output = Path.GetDirectoryName(OutputAssembly(exercise, outputName))!;
        var run = Path.Combine(work, "run");
        if (Directory.Exists(run))
        {
            Directory.Delete(run, recursive: true);
        }

        CopyOutput(output, run);
        return (run, clock.Elapsed, null);
    }

    /// <summary>Runs a unit's tests (several times for <see cref="CatalogOptions.Repeat"/> and races) and judges each run.</summary>
    private (IReadOnlyList<Verdict> Verdicts, TimeSpan Time) Test(CatalogUnit unit, string run, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var exercise = repo.Resolve(unit.Exercise);
        var times = unit is CatalogEntry { Race: not null } ? Math.Max(options.Repeat, options.RaceRepeat) : options.Repeat;
        var verdicts = new List<Verdict>();
        for (var i = 1; i <= Math.Max(1, times); i++)
        {
            var results = RunTests(unit, run, exercise, $"results-{i.ToString(CultureInfo.InvariantCulture)}", options.Filter, stopAtFailingStep: true, cancel);
            _lastResults[unit.Id] = results;
            verdicts.Add(unit switch
            {
                CatalogEntry entry => Judge.Entry(entry, exercise, results),
                CatalogStage stage => Judge.Stage(stage, results),
                _ => throw new InvalidOperationException("unknown catalog unit"),
            });
        }

        return (verdicts, clock.Elapsed);
    }

    /// <summary>One <c>dotnet test</c> of a unit's built tests.</summary>
    private RunResults RunTests(CatalogUnit unit, string run, ExerciseInfo exercise, string name, string? filter, bool stopAtFailingStep, CancellationToken cancel)
    {
        var results = Path.Combine(unit.WorkFolder(repo), name);
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        var assembly = Path.Combine(run, exercise.TestAssemblyName + ".dll");
        List<string> args = ["test", assembly, "--settings", RunSettings(), "--results-directory", results, "--logger", "trx"];
        if (filter is not null)
        {
            args.AddRange(["--filter", filter]);
        }

        var scale = unit is CatalogStage ? 1.0 : options.DeadlineScale;
        var environment = new Dictionary<string, string>
        {
            ["KATA_DEADLINE_SCALE"] = scale.ToString(CultureInfo.InvariantCulture),
            ["KATA_STOP_AFTER_FAILING_STEP"] = stopAtFailingStep ? "1" : "0",
        };
        var result = Dotnet.Run(args, repo.Root, TimeSpan.FromMinutes(20), cancel, environment, ShowTestOutput ? Console.Out.WriteLine : null);
        File.WriteAllLines(Path.Combine(unit.WorkFolder(repo), name + ".log"), result.Output);
        var read = ResultReader.ReadDirectory(results, steps: _ => StepMap.Read(assembly));
        return result.TimedOut
            ? read with { Problems = [.. read.Problems, new RunProblem(unit.Exercise, "the test run did not finish within 20 minutes and was stopped")] }
            : read;
    }

    /// <summary>
    /// tests/kata.runsettings without its hang backstop (the blame collector, one more process per run: a catalog run
    /// has its own deadline, and every test its own) and without the kata's console logger (the catalog reads the TRX
    /// file, and shows the board). Written once per catalog run, under artifacts/catalog/.
    /// </summary>
    private string RunSettings()
    {
        lock (_runSettingsSync)
        {
            var path = Path.Combine(repo.Root, "artifacts", "catalog", "catalog.runsettings");
            if (_runSettingsWritten)
            {
                return path;
            }

            var settings = XDocument.Load(Path.Combine(repo.Root, "tests", "kata.runsettings"));
            settings.Root!.Element("DataCollectionRunSettings")?.Remove();
            settings.Root.Descendants("Logger").Where(l => (string?)l.Attribute("friendlyName") == "kata").Remove();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            settings.Save(path);
            _runSettingsWritten = true;
            return path;
        }
    }

    /// <summary>
    /// docs/testing.md, rule 18: every test of an exercise must fail on some known-wrong entry. A test that no run
    /// failed (the runs stop at the earliest failing step) is run against the entry catalog/&lt;exercise&gt;/coverage.tsv
    /// names for it (<see cref="CoverageMap"/>); any test still not seen failing is run, with every other such test,
    /// against the entries whose runs stopped before reaching it (latest failing step first), until each has failed
    /// somewhere or no entry is left.
    /// </summary>
    private List<CoverageReport> Coverage(IReadOnlyList<UnitReport> reports, IReadOnlyCollection<string> wholeExercises, CancellationToken cancel)
    {
        var coverage = new List<CoverageReport>();
        foreach (var exercise in wholeExercises.Order(StringComparer.Ordinal))
        {
            var entries = reports.Where(r => r.Unit is CatalogEntry && r.Unit.Exercise == exercise).ToList();
            if (entries.Count == 0)
            {
                continue;
            }

            var all = entries.SelectMany(r => _lastResults.TryGetValue(r.Unit.Id, out var res) ? res.Tests.Where(t => t.Exercise == exercise).Select(Judge.Key) : [])
                .ToHashSet(StringComparer.Ordinal);

            // Test -> the first entry it was seen failing on (the main runs first), and every (test, entry) seen.
            var failedOn = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<(string Test, string Entry)>();
            foreach (var report in entries)
            {
                Record([(report.Unit, report.Runs.SelectMany(v => v.FailedTests).ToList())]);
            }

            var mainFailed = failedOn.Keys.ToHashSet(StringComparer.Ordinal);
            var info = repo.Resolve(exercise);
            var extra = 0;
            var byName = entries.ToDictionary(r => r.Unit.Name, r => r.Unit, StringComparer.Ordinal);
            var map = CoverageMap.Load(repo, exercise);
            var planned = all.Where(t => !failedOn.ContainsKey(t) && map.TryGetValue(t, out var e) && byName.ContainsKey(e))
                .GroupBy(t => map[t], StringComparer.Ordinal)
                .Select(g => (Unit: byName[g.Key], Tests: g.ToList()))
                .ToList();
            foreach (var batch in planned.Chunk(Math.Max(1, options.TestWorkers)))
            {
                Record(batch.AsParallel().WithDegreeOfParallelism(batch.Length).Select(p => (p.Unit, Failed: RunForCoverage(p.Unit, info, p.Tests, cancel))).ToList());
                extra += batch.Length;
            }

            var uncovered = all.Where(t => !failedOn.ContainsKey(t)).ToHashSet(StringComparer.Ordinal);
            var searched = uncovered.Count > 0;
            var candidates = entries
                .Where(r => r.Runs.Count > 0 && r.Runs[0].NotRunTests.Count > 0)
                .OrderByDescending(r => r.Runs[0].FailingStep ?? 0)
                .Select(r => r.Unit)
                .ToList();
            foreach (var batch in candidates.Chunk(Math.Max(1, options.TestWorkers)))
            {
                if (uncovered.Count == 0)
                {
                    break;
                }

                var wanted = uncovered.ToList();
                Record(batch.AsParallel().WithDegreeOfParallelism(batch.Length).Select(unit => (unit, Failed: RunForCoverage(unit, info, wanted, cancel))).ToList());
                extra += batch.Length;
                uncovered.ExceptWith(failedOn.Keys);
            }

            if (options.UpdateCoverageMap && uncovered.Count == 0)
            {
                // The tests the main runs reach keep the map's choice where it was seen to hold; the others go to as few
                // entries as will do, since each is one more run.
                var updated = all.ToDictionary(t => t, t => map.TryGetValue(t, out var e) && seen.Contains((t, e)) ? e : failedOn[t], StringComparer.Ordinal);
                var left = all.Where(t => !mainFailed.Contains(t)).ToHashSet(StringComparer.Ordinal);
                while (left.Count > 0)
                {
                    var best = seen.Where(p => left.Contains(p.Test)).GroupBy(p => p.Entry, StringComparer.Ordinal)
                        .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
                    foreach (var (test, _) in best)
                    {
                        updated[test] = best.Key;
                        left.Remove(test);
                    }
                }

                CoverageMap.Save(repo, exercise, updated);
                log($"catalog: {exercise}: wrote {repo.Relative(CoverageMap.PathOf(repo, exercise))}");
            }

            coverage.Add(new CoverageReport(exercise, all.Count, uncovered.Order(StringComparer.Ordinal).ToList(), extra, MapOutOfDate: searched));

            void Record(IEnumerable<(CatalogUnit Unit, List<string> Failed)> found)
            {
                foreach (var (unit, failed) in found)
                {
                    foreach (var test in failed)
                    {
                        failedOn.TryAdd(test, unit.Name);
                        seen.Add((test, unit.Name));
                    }
                }
            }
        }

        return coverage;
    }

    /// <summary>Runs <paramref name="tests"/> on an entry's built tests, every step, and returns those that failed.</summary>
    private List<string> RunForCoverage(CatalogUnit unit, ExerciseInfo exercise, IReadOnlyCollection<string> tests, CancellationToken cancel)
    {
        var filter = string.Join("|", tests.Select(MethodOf).Distinct(StringComparer.Ordinal).Select(t => "FullyQualifiedName~" + FilterEscape(t)));
        var run = Path.Combine(unit.WorkFolder(repo), "run");
        var results = RunTests(unit, run, exercise, "coverage", filter, stopAtFailingStep: false, cancel);
        return results.Tests.Where(t => t.Outcome is TestOutcome.Failed or TestOutcome.NotImplemented).Select(Judge.Key).ToList();
    }

    /// <summary>Class.Method of a test key, without a parameterised test's arguments.</summary>
    private static string MethodOf(string key)
    {
        var paren = key.IndexOf('(', StringComparison.Ordinal);
        return paren >= 0 ? key[..paren] : key;
    }

    /// <summary>Escapes what <c>dotnet test --filter</c> gives a meaning to.</summary>
    private static string FilterEscape(string value)
    {
        var escaped = new System.Text.StringBuilder();
        foreach (var c in value)
        {
            if (c is '\\' or '(' or ')' or '&' or '|' or '=' or '!' or '~')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    /// <summary>The test assembly a build with <c>-p:KataOutputName=</c><paramref name="outputName"/> wrote.</summary>
    private static string OutputAssembly(ExerciseInfo exercise, string outputName)
    {
        var folder = Path.Combine(Path.GetDirectoryName(exercise.TestProject)!, "bin", outputName, "Debug");
        var name = exercise.TestAssemblyName + ".dll";
        return Directory.GetDirectories(folder).Select(d => Path.Combine(d, name)).Where(File.Exists).OrderByDescending(File.GetLastWriteTimeUtc).First();
    }

    /// <summary>Copies a build's output folder (files keep their permissions: an apphost stays executable).</summary>
    private static void CopyOutput(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }
        }
    }
}
