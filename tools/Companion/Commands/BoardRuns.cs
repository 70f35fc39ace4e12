using System.Text.Json;
using Spectre.Console;

namespace ConcurrencyKata.Companion;

/// <summary>What the board commands share: running the tests with a progress indicator, and the saved board.</summary>
internal static class BoardRuns
{
    /// <summary>Writes a note for the learner on stderr, so that stdout stays the board (or its JSON).</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);

    /// <summary>The hint provider for a board: the step's first hint, and how many the step has.</summary>
    public static (string? Hint, int Count) FirstHint(ExerciseInfo exercise, int step)
    {
        var hints = Hints.Read(exercise.HintsFile);
        return hints.TryGetValue(step, out var list) && list.Count > 0 ? (list[0], list.Count) : (null, 0);
    }

    /// <summary>
    /// Runs the selected tests and builds the board from what dotnet test wrote. While it runs, a status line says
    /// what dotnet is doing (building, which tests); with the output redirected, a plain line per phase on stderr.
    /// A learner board is saved in .kata/board.json, merged with the exercises this run did not cover.
    /// </summary>
    public static (Board Board, RunOutcome Outcome) Run(KataRepo repo, KataSettings settings, TestSelection selection, CancellationToken cancel)
    {
        var exercises = selection.Exercises ?? repo.Exercises;
        var runner = new TestRunner(repo) { Verbose = settings.Verbose, Deadline = TimeSpan.FromMinutes(Math.Max(1, settings.DeadlineMinutes)) };
        var what = exercises.Count == 1 ? $"exercise {exercises[0].Id}" : "every exercise";
        var steps = selection.Steps is { Count: > 0 } s ? $", Steps {string.Join(", ", s)}" : "";
        var target = selection.Mode == KataMode.Reference ? " against solutions/" : "";
        var headline = $"dotnet test: {what}{steps}{target}";

        RunOutcome outcome;
        var interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected && !settings.Verbose;
        if (interactive)
        {
            outcome = null!;
            AnsiConsole.Status().Start(headline + " - building", context =>
                outcome = runner.Run(selection, line =>
                {
                    if (Phase(line) is { } phase)
                    {
                        context.Status(Markup.Escape($"{headline} - {phase}"));
                    }
                }, cancel));
        }
        else
        {
            Note(headline + "...");
            string? last = null;
            outcome = runner.Run(selection, line =>
            {
                if (Phase(line) is { } phase && phase != last)
                {
                    last = phase;
                    Note("  " + phase);
                }
            }, cancel);
        }

        var previous = selection.Mode == KataMode.Learner ? Load(repo) : null;
        var board = BoardBuilder.Build(selection.Mode, exercises, outcome.Results, FirstHint, previous);
        if (selection.Mode == KataMode.Learner)
        {
            Save(repo, board);
        }

        return (board, outcome);
    }

    /// <summary>What a line of dotnet's output says it is doing, if anything: "running WorkQueue.Tests".</summary>
    private static string? Phase(string line)
    {
        const string testRun = "Test run for ";
        var at = line.IndexOf(testRun, StringComparison.Ordinal);
        if (at >= 0)
        {
            var path = line[(at + testRun.Length)..];
            var end = path.IndexOf(" (", StringComparison.Ordinal);
            return "running " + Path.GetFileNameWithoutExtension(end > 0 ? path[..end] : path);
        }

        return line.Contains("Determining projects to restore", StringComparison.Ordinal) ? "restoring" : null;
    }

    /// <summary>Keeps the last learner board in .kata/board.json: a run of one exercise updates that exercise, the
    /// others keep their last known results.</summary>
    public static void Save(KataRepo repo, Board board)
    {
        Directory.CreateDirectory(repo.StateDirectory);
        var merged = board;
        if (Load(repo) is { } previous)
        {
            var rows = previous.Exercises.Where(p => board.Exercises.All(e => e.Id != p.Id)).Concat(board.Exercises)
                .OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
            merged = board with { Exercises = rows };
        }

        File.WriteAllText(Path.Combine(repo.StateDirectory, "board.json"), JsonSerializer.Serialize(merged, JsonOptions.Indented));
    }

    /// <summary>The last learner board, if any (an unreadable or older-format one counts as none).</summary>
    public static Board? Load(KataRepo repo)
    {
        var file = Path.Combine(repo.StateDirectory, "board.json");
        try
        {
            return File.Exists(file) ? ReadBoard(File.ReadAllText(file)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>A board from its JSON; null when it is not one.</summary>
    public static Board? ReadBoard(string json)
    {
        try
        {
            var board = JsonSerializer.Deserialize<Board>(json, JsonOptions.Indented);
            return board is { Exercises: not null } && board.Exercises.All(e => e.Steps is not null && e.Steps.All(s => s.Failures is not null)) ? board : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Prints the board as JSON on stdout.</summary>
    public static void PrintJson(Board board) => Console.Out.WriteLine(JsonSerializer.Serialize(board, JsonOptions.Indented));
}
