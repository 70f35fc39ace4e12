using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata reset</c>.</summary>
internal sealed class ResetSettings : KataSettings
{
    [CommandArgument(0, "<EXERCISE>")]
    [Description("The exercise whose stub to restore.")]
    public string Exercise { get; init; } = "";

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (for scripts).")]
    public bool Yes { get; init; }

    [CommandOption("--forget-hints")]
    [Description("Also forget the hints revealed for this exercise (asked when there is a terminal).")]
    public bool ForgetHints { get; init; }

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
        var repo = settings.Repo();
        var exercise = repo.Resolve(settings.Exercise);
        var folder = repo.Relative(exercise.Directory);
        var changed = Git(repo, "status", "--porcelain", "--", folder).Output;
        if (string.IsNullOrWhiteSpace(changed) && settings.Source == "HEAD")
        {
            AnsiConsole.MarkupLine($"{Markup.Escape(folder)} has no changes: nothing to reset.");
            ForgetHints(repo, exercise, settings);
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

        ForgetHints(repo, exercise, settings);

        var untracked = Git(repo, "ls-files", "--others", "--exclude-standard", "--", folder).Output.Trim();
        AnsiConsole.MarkupLine($"Restored {Markup.Escape(folder)} from git ({Markup.Escape(settings.Source)}).");
        if (untracked.Length > 0)
        {
            AnsiConsole.MarkupLine("Files you added were kept (delete them yourself if they are not wanted):");
            AnsiConsole.WriteLine(untracked);
        }

        return 0;
    }

    /// <summary>
    /// Starting an exercise again may mean starting its hints again too: with a terminal, asks (default no);
    /// <c>--forget-hints</c> forgets them without asking. Without either, the hints revealed so far are kept.
    /// </summary>
    private static void ForgetHints(KataRepo repo, ExerciseInfo exercise, ResetSettings settings)
    {
        var state = HintState.Load(repo);
        if (!state.HasAny(exercise.Id))
        {
            return;
        }

        var forget = settings.ForgetHints
            || (!settings.Yes && !Console.IsInputRedirected && AnsiConsole.Profile.Capabilities.Interactive
                && AnsiConsole.Confirm($"Also forget the hints you revealed for exercise {exercise.Number} (start them from hint 1 again)?", defaultValue: false));
        if (forget)
        {
            state.Forget(exercise.Id);
            state.Save();
            AnsiConsole.MarkupLine($"Forgot the hints revealed for exercise {Markup.Escape(exercise.Number)}.");
        }
        else
        {
            AnsiConsole.MarkupLine($"Kept the hints revealed for exercise {Markup.Escape(exercise.Number)} ([bold]--forget-hints[/] forgets them).");
        }
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
