using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary><c>kata</c> / <c>kata progress</c>: run the tests (learner mode) and show the board.</summary>
internal sealed class ProgressCommand : Command<BoardSettings>
{
    public override int Execute(CommandContext context, BoardSettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var exercises = settings.Exercise is null ? null : (IReadOnlyList<ExerciseInfo>)[repo.Resolve(settings.Exercise)];
        var (board, _) = BoardRuns.Run(repo, settings, new TestSelection(KataMode.Learner, exercises), cancellationToken);
        if (settings.Json)
        {
            BoardRuns.PrintJson(board);
            return 0;
        }

        new BoardRenderer((Invocation)context.Data!).Render(AnsiConsole.Console, board);
        if (board.Next is { Hint: not null } next)
        {
            // The board showed the first hint: `kata hint` goes on from the second.
            var state = HintState.Load(repo);
            if (state.Revealed(next.Exercise, next.Step) == 0)
            {
                state.Reveal(next.Exercise, next.Step, 1);
                state.Save();
            }
        }

        return 0;
    }
}
