using ConcurrencyKata.Companion;
using Spectre.Console;
using Spectre.Console.Cli;

// Installed as a local tool, the companion runs from the NuGet package folder; otherwise from tools/Kata/bin.
BoardRenderer.Command = AppContext.BaseDirectory.Contains("concurrency.kata.tool", StringComparison.OrdinalIgnoreCase)
    ? "dotnet kata"
    : "dotnet run --project tools/Kata --";

var app = new CommandApp<ProgressCommand>();
app.Configure(config =>
{
    config.SetApplicationName("kata");
    config.AddCommand<ProgressCommand>("progress")
        .WithDescription("Run the tests (your code, exercises/) and show the board: steps passed, points, the next step and its first hint.")
        .WithExample("progress")
        .WithExample("progress", "--exercise", "01")
        .WithExample("progress", "--json");
    config.AddCommand<HintCommand>("hint")
        .WithDescription("Show one more hint for an exercise's step (your current step unless you name one).")
        .WithExample("hint", "01")
        .WithExample("hint", "01", "3");
    config.AddCommand<WatchCommand>("watch")
        .WithDescription("Re-run one exercise's tests every time you save a file of it.")
        .WithExample("watch", "01")
        .WithExample("watch", "01", "--poll")
        .WithExample("watch", "01", "--manual");
    config.AddCommand<ResetCommand>("reset")
        .WithDescription("Throw away your work on an exercise and restore its stub from git (asks first).")
        .WithExample("reset", "01");
    config.AddCommand<VerifyCommand>("verify")
        .WithDescription("Run the tests against the reference solutions (solutions/): everything must pass.");
    config.AddCommand<DojoCommand>("dojo")
        .WithDescription("A summary for the projector: this repository's board, or a leaderboard of the teams' JSON boards.")
        .WithExample("dojo")
        .WithExample("dojo", "boards/");
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
using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
using var onHup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, Stop);
return app.Run(args, cancel.Token);

void Stop(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
