using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata dojo</c>.</summary>
internal sealed class DojoSettings : KataSettings
{
    [CommandArgument(0, "[BOARDS]")]
    [Description("Boards saved with `kata progress --json > team.json` (files or folders): show them as a leaderboard. None: run this repository's tests.")]
    public string[] Boards { get; init; } = [];

    [CommandOption("-e|--exercise <EXERCISE>")]
    [Description("Run only this exercise's tests (when no board file is given).")]
    public string? Exercise { get; init; }
}

/// <summary><c>kata dojo</c>: a summary for the projector, of this repository or of every team's JSON board.</summary>
internal sealed class DojoCommand : Command<DojoSettings>
{
    public override int Execute(CommandContext context, DojoSettings settings, CancellationToken cancellationToken)
    {
        var teams = new List<(string Team, Board Board)>();
        if (settings.Boards.Length == 0)
        {
            var repo = settings.Repo();
            var exercises = settings.Exercise is null ? null : (IReadOnlyList<ExerciseInfo>)[repo.Resolve(settings.Exercise)];
            var (board, _) = BoardRuns.Run(repo, settings, new TestSelection(KataMode.Learner, exercises), cancellationToken);
            teams.Add(("this repository", board));
        }
        else
        {
            foreach (var file in settings.Boards.SelectMany(Expand))
            {
                if (BoardRuns.ReadBoard(File.ReadAllText(file)) is { } board)
                {
                    teams.Add((Path.GetFileNameWithoutExtension(file), board));
                }
                else
                {
                    BoardRuns.Note($"Skipped {file}: not a kata board of this version (save it again with: kata progress --json > {file}).");
                }
            }

            if (teams.Count == 0)
            {
                throw new KataException("No board found. Each team saves theirs with: kata progress --json > boards/<team>.json");
            }
        }

        BoardRenderer.RenderDojo(AnsiConsole.Console, teams);
        return 0;
    }

    private static IEnumerable<string> Expand(string path) =>
        Directory.Exists(path) ? Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal) : [path];
}
