using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

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
        var invocation = (Invocation)context.Data!;
        var repo = settings.Repo();
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
        var again = settings.Step is null ? $"{invocation.Command} hint {exercise.Number}" : $"{invocation.Command} hint {exercise.Number} {step}";
        console.MarkupLine(show < hints.Count
            ? $"Still stuck? [bold]{Markup.Escape(again)}[/] shows hint {show + 1} of {hints.Count} for Step {step}."
            : $"That was the last hint for Step {step}. The README's \"Step {step}\" section and the failing test's message say the rest.");
        return 0;
    }

    private static int CurrentStep(KataRepo repo, ExerciseInfo exercise, HintSettings settings, CancellationToken cancel)
    {
        var saved = BoardRuns.Load(repo)?.Exercises.FirstOrDefault(e => e.Id == exercise.Id && e.State is ExerciseState.Ran or ExerciseState.BuildFailed && e.Steps.Count > 0);
        if (saved is null)
        {
            BoardRuns.Note($"No saved board for {exercise.Id} yet: running its tests to find your current step.");
            var (board, _) = BoardRuns.Run(repo, settings, new TestSelection(KataMode.Learner, [exercise]), cancel);
            saved = board.Exercises[0];
        }

        return saved.Steps.FirstOrDefault(s => s.Number > 0 && s.State != StepState.Done)?.Number
            ?? (exercise.Steps.Count > 0 ? exercise.Steps[^1].Number : 1);
    }
}
