using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary><c>kata verify</c>: run the tests against the reference solutions; everything must pass.</summary>
internal sealed class VerifyCommand : Command<BoardSettings>
{
    public override int Execute(CommandContext context, BoardSettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var exercises = settings.Exercise is null ? null : (IReadOnlyList<ExerciseInfo>)[repo.Resolve(settings.Exercise)];
        var (board, outcome) = BoardRuns.Run(repo, settings, new TestSelection(KataMode.Reference, exercises), cancellationToken);
        var others = outcome.Results.Tests.Where(t => t.Exercise is null).ToList();
        var allPass = board.Exercises.All(e => e.Done) && others.All(t => t.Outcome == TestOutcome.Passed) && board.Problems.Count == 0;
        if (settings.Json)
        {
            BoardRuns.PrintJson(board);
            return allPass ? 0 : 1;
        }

        new BoardRenderer((Invocation)context.Data!).Render(AnsiConsole.Console, board, showNext: false);
        if (others.Count > 0)
        {
            var failed = others.Where(t => t.Outcome != TestOutcome.Passed).ToList();
            AnsiConsole.MarkupLine($"Other tests (repository and companion checks): {others.Count - failed.Count}/{others.Count} passed");
            foreach (var f in failed.Take(10))
            {
                AnsiConsole.MarkupLine($"[red]  ! {Markup.Escape(f.ClassName)}.{Markup.Escape(f.Name)}: {Markup.Escape(f.Diagnosis?.Text ?? f.Outcome.ToString())}[/]");
            }
        }

        AnsiConsole.MarkupLine(allPass ? "[green]Reference mode: every test passes.[/]" : "[red]Reference mode: not every test passes.[/]");
        return allPass ? 0 : 1;
    }
}
