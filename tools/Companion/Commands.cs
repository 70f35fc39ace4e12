using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options every command understands.</summary>
internal class KataSettings : CommandSettings
{
    [CommandOption("--root <PATH>")]
    [Description("The kata repository (default: the folder holding Concurrency.Kata.sln, from the current folder up).")]
    public string? Root { get; init; }

    [CommandOption("-v|--verbose")]
    [Description("Show dotnet's own output while it runs.")]
    public bool Verbose { get; init; }

    [CommandOption("--deadline <MINUTES>")]
    [Description("Stop dotnet test if it runs longer than this (default 15).")]
    [DefaultValue(15)]
    public int DeadlineMinutes { get; init; } = 15;
}

/// <summary>Options of the commands that show a board.</summary>
internal class BoardSettings : KataSettings
{
    [CommandOption("-e|--exercise <EXERCISE>")]
    [Description("Run only this exercise's tests (01, 1, 01-work-queue or work-queue). Default: every exercise.")]
    public string? Exercise { get; init; }

    [CommandOption("--json")]
    [Description("Print the board as JSON (for dojo scoreboards) instead of drawing it.")]
    public bool Json { get; init; }
}

/// <summary>Helpers shared by the commands.</summary>
internal static class Companion
{
    /// <summary>Writes a note for the learner on stderr, so that stdout stays the board (or its JSON).</summary>
    public static void Note(string text) => Console.Error.WriteLine(text);

    /// <summary>The hint provider for a board: the step's first hint, and how many the step has.</summary>
    public static Func<ExerciseInfo, int, (string? Hint, int Count)> FirstHint() => (exercise, step) =>
    {
        var hints = Hints.Read(exercise.HintsFile);
        return hints.TryGetValue(step, out var list) && list.Count > 0 ? (list[0], list.Count) : (null, 0);
    };

    /// <summary>Runs the tests and builds the board from what dotnet test wrote.</summary>
    public static (Board Board, RunOutcome Outcome) RunBoard(KataRepo repo, KataSettings settings, KataMode mode, string? exercise, FastStrategy? fast = null, CancellationToken cancel = default)
    {
        var exercises = exercise is null ? repo.Exercises : [repo.Resolve(exercise)];
        var runner = new TestRunner(repo) { Verbose = settings.Verbose, Deadline = TimeSpan.FromMinutes(Math.Max(1, settings.DeadlineMinutes)) };
        var what = exercise is null ? "every exercise" : $"exercise {exercises[0].Id}";
        var target = mode == KataMode.Reference ? " against solutions/" : "";
        Note($"Running dotnet test for {what}{target}...");
        var outcome = runner.Run(mode, exercises, fast, cancel);
        var board = BoardBuilder.Build(mode == KataMode.Reference ? "reference" : "learner", exercises, outcome.Results, FirstHint());
        if (mode == KataMode.Learner)
        {
            SaveBoard(repo, board);
        }

        return (board, outcome);
    }

    /// <summary>Keeps the last learner board in .kata/board.json (a copy of what dotnet test reported).</summary>
    public static void SaveBoard(KataRepo repo, Board board)
    {
        Directory.CreateDirectory(repo.StateDirectory);
        var file = Path.Combine(repo.StateDirectory, "board.json");
        var merged = board;
        var previous = LoadBoard(repo);
        if (previous is not null)
        {
            // A run of one exercise updates that exercise; the others keep their last known results.
            var rows = previous.Exercises.Where(p => board.Exercises.All(e => e.Id != p.Id)).Concat(board.Exercises)
                .OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
            merged = board with { Exercises = rows };
        }

        File.WriteAllText(file, JsonSerializer.Serialize(merged, JsonOptions.Indented));
    }

    /// <summary>The last learner board, if any.</summary>
    public static Board? LoadBoard(KataRepo repo)
    {
        var file = Path.Combine(repo.StateDirectory, "board.json");
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<Board>(File.ReadAllText(file), JsonOptions.Indented) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Prints the board as JSON on stdout.</summary>
    public static void PrintJson(Board board) => Console.Out.WriteLine(JsonSerializer.Serialize(board, JsonOptions.Indented));

    /// <summary>Finds the repository named by the settings.</summary>
    public static KataRepo Repo(KataSettings settings) => KataRepo.Find(settings.Root);
}

/// <summary><c>kata</c> / <c>kata progress</c>: run the tests (learner mode) and show the board.</summary>
internal sealed class ProgressCommand : Command<BoardSettings>
{
    public override int Execute(CommandContext context, BoardSettings settings, CancellationToken cancellationToken)
    {
        var repo = Companion.Repo(settings);
        var (board, _) = Companion.RunBoard(repo, settings, KataMode.Learner, settings.Exercise, cancel: cancellationToken);
        if (settings.Json)
        {
            Companion.PrintJson(board);
            return 0;
        }

        BoardRenderer.Render(AnsiConsole.Console, board);
        if (board.Next is { } next)
        {
            // The board showed the first hint: `kata hint` goes on from the second.
            var state = HintState.Load(repo);
            if (next.Hint is not null && state.Revealed(next.Exercise, next.Step) == 0)
            {
                state.Reveal(next.Exercise, next.Step, 1);
                state.Save();
            }
        }

        return 0;
    }
}

/// <summary><c>kata verify</c>: run the tests against the reference solutions; everything must pass.</summary>
internal sealed class VerifyCommand : Command<BoardSettings>
{
    public override int Execute(CommandContext context, BoardSettings settings, CancellationToken cancellationToken)
    {
        var repo = Companion.Repo(settings);
        var (board, outcome) = Companion.RunBoard(repo, settings, KataMode.Reference, settings.Exercise, cancel: cancellationToken);
        var others = outcome.Results.Tests.Where(t => t.Exercise is null).ToList();
        var allPass = board.Exercises.All(e => e.Done) && others.All(t => t.Outcome == TestOutcome.Passed) && board.Problems.Count == 0;
        if (settings.Json)
        {
            Companion.PrintJson(board);
            return allPass ? 0 : 1;
        }

        BoardRenderer.Render(AnsiConsole.Console, board, showNext: false);
        if (others.Count > 0)
        {
            var failed = others.Where(t => t.Outcome != TestOutcome.Passed).ToList();
            AnsiConsole.MarkupLine($"Other tests (repository and companion checks): {others.Count - failed.Count}/{others.Count} passed");
            foreach (var f in failed.Take(10))
            {
                AnsiConsole.MarkupLine($"[red]  ! {Markup.Escape(f.ClassName)}.{Markup.Escape(f.Name)}: {Markup.Escape(f.Message)}[/]");
            }
        }

        AnsiConsole.MarkupLine(allPass ? "[green]Reference mode: every test passes.[/]" : "[red]Reference mode: not every test passes.[/]");
        return allPass ? 0 : 1;
    }
}

/// <summary>Options of <c>kata hint</c>.</summary>
internal sealed class HintSettings : KataSettings
{
    [CommandArgument(0, "<EXERCISE>")]
    [Description("The exercise: 01, 1, 01-work-queue or work-queue.")]
    public string Exercise { get; init; } = "";

    [CommandArgument(1, "[STEP]")]
    [Description("The step (default: your current step, the first one whose tests do not all pass).")]
    public int? Step { get; init; }

    [CommandOption("--again")]
    [Description("Show the hints already revealed, without revealing a new one.")]
    public bool Again { get; init; }
}

/// <summary><c>kata hint &lt;exercise&gt; [step]</c>: one more hint each time.</summary>
internal sealed class HintCommand : Command<HintSettings>
{
    public override int Execute(CommandContext context, HintSettings settings, CancellationToken cancellationToken)
    {
        var repo = Companion.Repo(settings);
        var exercise = repo.Resolve(settings.Exercise);
        var step = settings.Step ?? CurrentStep(repo, exercise, settings, cancellationToken);
        var all = Hints.Read(exercise.HintsFile);
        if (!all.TryGetValue(step, out var hints) || hints.Count == 0)
        {
            AnsiConsole.MarkupLine($"exercises/{Markup.Escape(exercise.Id)}/HINTS.md has no hints for Step {step}. Its README's \"Step {step}\" section explains what to build.");
            return 1;
        }

        var state = HintState.Load(repo);
        var revealed = state.Revealed(exercise.Id, step);
        var show = settings.Again ? Math.Max(1, revealed) : Math.Min(hints.Count, revealed + 1);
        state.Reveal(exercise.Id, step, show);
        state.Save();

        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]Exercise {exercise.Number}, Step {step}[/] ({Markup.Escape(exercise.Title)})");
        for (var i = 0; i < show; i++)
        {
            console.WriteLine();
            console.MarkupLine($"[bold]Hint {i + 1} of {hints.Count}[/]" + (i < show - 1 ? " [grey](seen before)[/]" : ""));
            BoardRenderer.WriteHint(console, hints[i], 2);
        }

        console.WriteLine();
        console.MarkupLine(show < hints.Count
            ? $"Still stuck? [bold]{Markup.Escape(BoardRenderer.Command)} hint {exercise.Number} {step}[/] reveals hint {show + 1}."
            : $"That was the last hint for Step {step}. The README's \"Step {step}\" section and the failing test's message say the rest.");
        return 0;
    }

    private static int CurrentStep(KataRepo repo, ExerciseInfo exercise, HintSettings settings, CancellationToken cancel)
    {
        var saved = Companion.LoadBoard(repo)?.Exercises.FirstOrDefault(e => e.Id == exercise.Id && e.State == ExerciseState.Ran);
        if (saved is null)
        {
            Companion.Note($"No saved board for {exercise.Id} yet: running its tests to find your current step.");
            var (board, _) = Companion.RunBoard(repo, settings, KataMode.Learner, exercise.Id, cancel: cancel);
            saved = board.Exercises[0];
        }

        return saved.Steps.FirstOrDefault(s => s.Number > 0 && s.State != StepState.Done)?.Number
            ?? (exercise.Steps.Count > 0 ? exercise.Steps[^1].Number : 1);
    }
}

/// <summary>Options of <c>kata reset</c>.</summary>
internal sealed class ResetSettings : KataSettings
{
    [CommandArgument(0, "<EXERCISE>")]
    [Description("The exercise whose stub to restore.")]
    public string Exercise { get; init; } = "";

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (for scripts).")]
    public bool Yes { get; init; }

    [CommandOption("--source <REV>")]
    [Description("The git revision holding the stub (default HEAD; use e.g. origin/main if you committed your own work).")]
    [DefaultValue("HEAD")]
    public string Source { get; init; } = "HEAD";
}

/// <summary><c>kata reset &lt;exercise&gt;</c>: restore the exercise's stub from git, after a confirmation.</summary>
internal sealed class ResetCommand : Command<ResetSettings>
{
    public override int Execute(CommandContext context, ResetSettings settings, CancellationToken cancellationToken)
    {
        var repo = Companion.Repo(settings);
        var exercise = repo.Resolve(settings.Exercise);
        var folder = repo.Relative(exercise.Directory);
        var changed = Git(repo, "status", "--porcelain", "--", folder).Output;
        if (string.IsNullOrWhiteSpace(changed) && settings.Source == "HEAD")
        {
            AnsiConsole.MarkupLine($"{Markup.Escape(folder)} has no changes: nothing to reset.");
            return 0;
        }

        if (!settings.Yes)
        {
            if (Console.IsInputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            {
                AnsiConsole.MarkupLine($"[red]kata reset would discard your changes in {Markup.Escape(folder)}; without a terminal to confirm, it does nothing. Add --yes to reset anyway.[/]");
                return 2;
            }

            AnsiConsole.MarkupLine($"This discards your changes in [bold]{Markup.Escape(folder)}[/] and restores the stub from git ({Markup.Escape(settings.Source)}):");
            AnsiConsole.WriteLine(changed.TrimEnd());
            if (!AnsiConsole.Confirm("Reset it?", defaultValue: false))
            {
                AnsiConsole.MarkupLine("Nothing changed.");
                return 1;
            }
        }

        var (code, output) = Git(repo, "checkout", settings.Source, "--", folder);
        if (code != 0)
        {
            AnsiConsole.MarkupLine($"[red]git checkout failed:[/] {Markup.Escape(output.Trim())}");
            return 1;
        }

        var untracked = Git(repo, "ls-files", "--others", "--exclude-standard", "--", folder).Output.Trim();
        AnsiConsole.MarkupLine($"Restored {Markup.Escape(folder)} from git ({Markup.Escape(settings.Source)}).");
        if (untracked.Length > 0)
        {
            AnsiConsole.MarkupLine("Files you added were kept (delete them yourself if they are not wanted):");
            AnsiConsole.WriteLine(untracked);
        }

        return 0;
    }

    private static (int Code, string Output) Git(KataRepo repo, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(info)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new KataException("kata reset needs git on the PATH: " + e.Message, e);
        }
    }
}

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
            var repo = Companion.Repo(settings);
            var (board, _) = Companion.RunBoard(repo, settings, KataMode.Learner, settings.Exercise, cancel: cancellationToken);
            teams.Add(("this repository", board));
        }
        else
        {
            foreach (var file in settings.Boards.SelectMany(Expand))
            {
                try
                {
                    var board = JsonSerializer.Deserialize<Board>(File.ReadAllText(file), JsonOptions.Indented);
                    if (board is not null)
                    {
                        teams.Add((Path.GetFileNameWithoutExtension(file), board));
                    }
                }
                catch (JsonException e)
                {
                    Companion.Note($"Skipped {file}: not a kata board ({e.Message}).");
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
