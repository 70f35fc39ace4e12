using System.ComponentModel;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata stage</c>.</summary>
internal sealed class StageSettings : KataSettings
{
    [CommandArgument(0, "<EXERCISE>")]
    [Description("The exercise (01, 01-work-queue, …).")]
    public string Exercise { get; init; } = "";

    [CommandArgument(1, "<STEP>")]
    [Description("The stage: the code after this step (0: the stubs; after the last stage, the solution).")]
    public int Step { get; init; }

    [CommandOption("--over")]
    [Description("Required: lay it over this repository's exercises/<exercise>/, replacing your work there.")]
    public bool Over { get; init; }
}

/// <summary>
/// <c>kata stage 01 2 --over</c>: puts the code of a learner who has just finished Step 2 (the step-by-step stage,
/// catalog/…/steps/) into exercises/01-…/, in place of what is there. For a dojo pair that fell behind, and for
/// measuring the learner's loop at every step (build/loop/measure) in a clone. It never runs without --over.
/// </summary>
internal sealed class StageCommand : Command<StageSettings>
{
    public override int Execute(CommandContext context, StageSettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var exercise = repo.Resolve(settings.Exercise);
        var layers = StageAssembler.Layers(repo.Root, exercise.Id);
        var last = Math.Max(layers.Count, exercise.Steps.Count);
        if (settings.Step < 0 || settings.Step > last)
        {
            throw new KataException($"Exercise {exercise.Number} has stages 0 (the stubs) to {last}.");
        }

        if (!settings.Over)
        {
            throw new KataException($"kata stage replaces your work in exercises/{exercise.Id}/: add --over to do it (commit or copy your work first).");
        }

        var staged = Path.Combine(repo.Root, "artifacts", "stage", exercise.Id);
        if (settings.Step == 0)
        {
            Workspace.CopyTree(exercise.Directory, staged);
            var restored = Dotnet.RunProcess("git", ["checkout", "HEAD", "--", repo.Relative(exercise.Directory)], repo.Root, TimeSpan.FromMinutes(1), cancellationToken);
            if (!restored.Succeeded)
            {
                throw new KataException("git checkout failed: " + string.Join(" ", restored.Output));
            }
        }
        else if (settings.Step > layers.Count)
        {
            // The steps after the last stage add no code of their own (the last stage's next step is solutions/).
            Workspace.CopyTree(Path.Combine(repo.Root, "solutions", exercise.Id), staged);
            Workspace.Sync(Path.GetDirectoryName(staged)!, Path.GetDirectoryName(exercise.Directory)!, [exercise.Id]);
        }
        else
        {
            StageAssembler.Materialize(repo.Root, exercise.Id, settings.Step, staged);
            Workspace.Sync(Path.GetDirectoryName(staged)!, Path.GetDirectoryName(exercise.Directory)!, [exercise.Id]);
        }

        Directory.Delete(staged, recursive: true);
        Console.Out.WriteLine(settings.Step == 0
            ? $"exercises/{exercise.Id}/ holds the stubs again."
            : $"exercises/{exercise.Id}/ holds the code after Step {settings.Step}.");
        return 0;
    }
}
