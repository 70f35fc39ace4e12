using System.Runtime.InteropServices;
using ConcurrencyKata.Companion;
using Spectre.Console;
using Spectre.Console.Cli;

// How the learner runs the companion decides how the commands it suggests are spelled.
var invocation = Invocation.Detect(AppContext.BaseDirectory);

var app = new CommandApp();
app.SetDefaultCommand<ProgressCommand>().WithData(invocation);
app.Configure(config =>
{
    config.SetApplicationName("kata");
    config.AddCommand<ProgressCommand>("progress").WithData(invocation)
        .WithDescription("Run the tests (your code, exercises/) and show the board: steps passed, points, the next step, what its tests say and its first hint.")
        .WithExample("progress")
        .WithExample("progress", "--exercise", "01")
        .WithExample("progress", "--json");
    config.AddCommand<HintCommand>("hint").WithData(invocation)
        .WithDescription("Show one more hint for an exercise's step (your current step unless you name one).")
        .WithExample("hint", "01")
        .WithExample("hint", "01", "3");
    config.AddCommand<WatchCommand>("watch").WithData(invocation)
        .WithDescription("Re-run one exercise's tests (your current step and the ones before it) every time you save a file of it.")
        .WithExample("watch", "01")
        .WithExample("watch", "01", "--all")
        .WithExample("watch", "01", "--poll")
        .WithExample("watch", "01", "--manual")
        .WithExample("watch", "01", "--measure", "5");
    config.AddCommand<ResetCommand>("reset").WithData(invocation)
        .WithDescription("Throw away your work on an exercise and restore its stub from git (asks first).")
        .WithExample("reset", "01");
    config.AddCommand<VerifyCommand>("verify").WithData(invocation)
        .WithDescription("Run the tests against the reference solutions (solutions/): everything must pass.");
    config.AddCommand<DojoCommand>("dojo").WithData(invocation)
        .WithDescription("A summary for the projector: this repository's board, or a leaderboard of the teams' JSON boards.")
        .WithExample("dojo")
        .WithExample("dojo", "boards/");
    config.AddCommand<CatalogCommand>("catalog").WithData(invocation)
        .WithDescription("Run the tests against the known-wrong implementations and step-by-step stages in catalog/, and judge them.")
        .WithExample("catalog", "01-work-queue/03-if-instead-of-while")
        .WithExample("catalog", "01", "--repeat", "20")
        .WithExample("catalog", "--strict");
    config.AddCommand<StageCommand>("stage").WithData(invocation)
        .WithDescription("Replace your exercise folder with the code of a learner who has just finished a step (catalog/…/steps/).")
        .WithExample("stage", "01", "2", "--over");
    config.AddCommand<MutateCommand>("mutate").WithData(invocation)
        .WithDescription("Mutation testing (Stryker.NET) of each exercise's reference solution with its tests; see docs/mutation.md.")
        .WithExample("mutate", "01");
    config.AddCommand<CoverageCommand>("coverage").WithData(invocation)
        .WithDescription("Line and branch coverage of each exercise's reference solution by its tests (coverlet, ReportGenerator).")
        .WithExample("coverage")
        .WithExample("coverage", "02");
    config.AddCommand<CiCommand>("ci").WithData(invocation)
        .WithDescription("Everything CI checks: both modes, the catalog, the benchmarks' dry run, leftovers; ends with \"N passed, N failed\".");
    config.SetExceptionHandler((exception, _) =>
    {
        var inner = exception is CommandRuntimeException { InnerException: { } i } ? i : exception;
        if (inner is KataException or CommandParseException or CommandRuntimeException)
        {
            AnsiConsole.MarkupLine("[red]kata:[/] " + Markup.Escape(inner.Message));
            return 2;
        }

        if (inner is OperationCanceledException)
        {
            return 130;
        }

        AnsiConsole.WriteException(inner);
        return 3;
    });
});

// Ctrl+C, SIGTERM or SIGHUP stop the run in progress: the dotnet process tree the companion started is killed
// first, so nothing it started outlives it.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
return app.Run(args, cancel.Token);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
