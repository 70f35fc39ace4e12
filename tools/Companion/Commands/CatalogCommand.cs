using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata catalog</c>.</summary>
internal sealed class CatalogSettings : KataSettings
{
    [CommandArgument(0, "[UNITS]")]
    [Description("Exercises (01-work-queue, 01), entries (01-work-queue/03-if-instead-of-while, 01/03) or stages (01-work-queue/steps/after-step-2). Default: the whole catalog.")]
    public string[] Units { get; init; } = [];

    [CommandOption("--repeat <N>")]
    [Description("Run each unit's tests N times (one build); every run must reject it. For data races: prove N of N.")]
    [DefaultValue(1)]
    public int Repeat { get; init; } = 1;

    [CommandOption("--race-repeat <N>")]
    [Description("Run each entry marked Race: N times (default 1).")]
    [DefaultValue(1)]
    public int RaceRepeat { get; init; } = 1;

    [CommandOption("--strict")]
    [Description("Also fail when a test of an exercise whose whole catalog ran fails on no known-wrong entry (docs/testing.md, rule 18).")]
    public bool Strict { get; init; }

    [CommandOption("--filter <FILTER>")]
    [Description("Run only some tests (a dotnet test --filter, e.g. TestCategory=Step5).")]
    public string? Filter { get; init; }

    [CommandOption("--lanes <N>")]
    [Description("Builds side by side (default 2).")]
    [DefaultValue(2)]
    public int Lanes { get; init; } = 2;

    [CommandOption("--jobs <N>")]
    [Description("Test runs side by side (default 2).")]
    [DefaultValue(2)]
    public int Jobs { get; init; } = 2;

    [CommandOption("--deadline-scale <X>")]
    [Description("KATA_DEADLINE_SCALE for the known-wrong entries (default 0.15: a hang costs 1.5 s, not 10 s). Stages keep 1.")]
    [DefaultValue(0.15)]
    public double DeadlineScale { get; init; } = 0.15;

    [CommandOption("--update-coverage-map")]
    [Description("With --strict: write catalog/<exercise>/coverage.tsv, the entry each test fails on, which the coverage check runs first.")]
    public bool UpdateCoverageMap { get; init; }

    /// <summary>The runner's options.</summary>
    public CatalogOptions Options() => new(Math.Max(1, Repeat), Math.Max(1, RaceRepeat), Strict, Filter, Math.Max(1, Lanes), Math.Max(1, Jobs), DeadlineScale, UpdateCoverageMap);
}

/// <summary>
/// <c>kata catalog</c>: runs the tests against the known-wrong implementations and the step-by-step stages in
/// catalog/ and judges them (see <see cref="CatalogRunner"/>). One unit alone shows its test output and the board a
/// learner with that code would see.
/// </summary>
internal sealed class CatalogCommand : Command<CatalogSettings>
{
    public override int Execute(CommandContext context, CatalogSettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var catalog = Catalog.Load(repo);
        var units = catalog.Select(repo, settings.Units);
        var report = Run(repo, catalog, units, settings.Options(), settings.Verbose || units.Count == 1, Console.Out.WriteLine, cancellationToken);
        if (units.Count == 1)
        {
            ShowBoard(repo, units[0], (Invocation)context.Data!);
        }

        return report.Ok(settings.Strict) ? 0 : 1;
    }

    /// <summary>Runs and reports; shared with <c>kata ci</c>.</summary>
    public static CatalogReport Run(KataRepo repo, Catalog catalog, IReadOnlyList<CatalogUnit> units, CatalogOptions options, bool showTestOutput, Action<string> log, CancellationToken cancel)
    {
        var entries = units.OfType<CatalogEntry>().ToList();
        var whole = units.Select(u => u.Exercise).Distinct()
            .Where(ex => catalog.Entries.Where(e => e.Exercise == ex).All(entries.Contains))
            .ToList();
        log($"catalog: {entries.Count} known-wrong entries and {units.Count - entries.Count} stages; {options.BuildLanes} build lane(s), {options.TestWorkers} test run(s) at a time, deadlines x{options.DeadlineScale.ToString(CultureInfo.InvariantCulture)} for entries");
        var report = new CatalogRunner(repo, options, log) { ShowTestOutput = showTestOutput }.Run(units, whole, cancel);

        var rejected = report.Units.Count(u => u.Unit is CatalogEntry && u.Ok);
        var stages = report.Units.Where(u => u.Unit is CatalogStage).ToList();
        log("");
        if (entries.Count > 0)
        {
            log($"catalog: {rejected} of {entries.Count} known-wrong implementations rejected, each with its rule on the board");
        }

        var races = report.Units.Where(u => u.Unit is CatalogEntry { Race: not null } && u.Runs.Count > 1).ToList();
        if (races.Count > 0)
        {
            log($"catalog: data races, judged {races.Max(r => r.Runs.Count)} times each: " +
                string.Join(", ", races.Select(r => $"{r.Unit.Name} {r.Runs.Count(v => v.Ok)}/{r.Runs.Count}")));
        }

        if (stages.Count > 0)
        {
            log($"catalog: {stages.Count(s => s.Ok)} of {stages.Count} step-by-step stages green up to their step, and no further");
        }

        foreach (var c in report.Coverage)
        {
            log(c.NeverFailed.Count == 0
                ? $"catalog: {c.Exercise}: each of its {c.Tests} tests fails on at least one known-wrong implementation ({c.ExtraRuns} extra coverage runs)"
                : $"catalog: {c.Exercise}: {c.NeverFailed.Count} of {c.Tests} tests fail on no known-wrong implementation: {string.Join(", ", c.NeverFailed.Select(t => t[(t.LastIndexOf('.') + 1)..]))}");
            if (c.MapOutOfDate && c.NeverFailed.Count == 0 && !options.UpdateCoverageMap)
            {
                log($"catalog: {c.Exercise}: {repo.Relative(CoverageMap.PathOf(repo, c.Exercise))} did not name an entry for every test, so some were searched for: " +
                    $"kata catalog {c.Exercise} --strict --update-coverage-map");
            }
        }

        foreach (var missed in report.Units.Where(u => !u.Ok))
        {
            log("catalog: MISSED " + CatalogRunner.Line(missed).Trim());
        }

        log($"catalog: finished in {report.Elapsed.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s " +
            $"(builds {report.Units.Sum(u => u.Build.TotalSeconds).ToString("0", CultureInfo.InvariantCulture)} s, " +
            $"test runs {report.Units.Sum(u => u.Test.TotalSeconds).ToString("0", CultureInfo.InvariantCulture)} s, in lanes)");
        return report;
    }

    /// <summary>The board a learner with this unit's code would see, drawn from its first run.</summary>
    private static void ShowBoard(KataRepo repo, CatalogUnit unit, Invocation invocation)
    {
        var work = unit.WorkFolder(repo);
        var results = Path.Combine(work, "results-1");
        if (!Directory.Exists(results))
        {
            return;
        }

        var exercise = repo.Resolve(unit.Exercise);
        var assembly = Path.Combine(work, "run", exercise.TestAssemblyName + ".dll");
        var read = ResultReader.ReadDirectory(results, steps: _ => StepMap.Read(assembly));
        var board = BoardBuilder.Build(KataMode.Learner, [exercise], read, BoardRuns.FirstHint);
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold]The board a learner with this code sees[/] (explore it: dotnet test tests/{Markup.Escape(unit.Exercise)} -p:KataDir={Markup.Escape(repo.Relative(Path.Combine(work, "source")))}/)");
        new BoardRenderer(invocation).Render(AnsiConsole.Console, board);
    }
}
