using System.ComponentModel;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>
/// <c>kata mutate [exercise]</c>: mutation testing of each exercise's reference solution with that exercise's tests
/// (Stryker.NET, from build/quality/.config/dotnet-tools.json; the settings are tests/NN-name/stryker-config.json).
/// Reports go to artifacts/mutation/NN-name/; docs/mutation.md has the scores and every surviving mutant's story.
/// It takes a while (every mutant is a test run): CI does not run it, a scheduled workflow does.
/// </summary>
internal sealed partial class MutateCommand : Command<QualitySettings>
{
    public override int Execute(CommandContext context, QualitySettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var quality = Path.Combine(repo.Root, "build", "quality");
        Restore(repo, quality, cancellationToken);
        var failed = 0;
        foreach (var exercise in Quality.Exercises(repo, settings.Exercises))
        {
            var config = Path.Combine(Path.GetDirectoryName(exercise.TestProject)!, "stryker-config.json");
            if (!File.Exists(config))
            {
                Console.Out.WriteLine($"mutate: {exercise.Id} has no stryker-config.json yet: skipped");
                continue;
            }

            var output = Path.Combine(repo.Root, "artifacts", "mutation", exercise.Id);
            Console.Out.WriteLine($"mutate: {exercise.Id} (Stryker.NET; report in {repo.Relative(output)}/)");

            // Stryker analyses the projects with a design-time build, which needs them restored and their tools
            // (the Coyote rewrite) in place: one ordinary reference build first, as on a fresh clone.
            var prepared = Dotnet.Run(["build", exercise.TestProject, "-p:KataTarget=solutions", "-v:q", "-nologo"], repo.Root, TimeSpan.FromMinutes(15), cancellationToken);
            if (!prepared.Succeeded)
            {
                Console.Out.WriteLine($"mutate: {exercise.Id}: the reference build failed: " + string.Join(" ", prepared.Output.TakeLast(5)));
                failed++;
                continue;
            }

            // From build/quality/, where the tool manifest is; the configuration's paths are relative to it too.
            var run = Dotnet.Run(["stryker", "--config-file", config, "--output", output], quality,
                TimeSpan.FromHours(3), cancellationToken, new Dictionary<string, string> { ["KataTarget"] = "solutions" }, Console.Out.WriteLine);
            var score = run.Output.Select(l => Score().Match(l)).LastOrDefault(m => m.Success);
            Console.Out.WriteLine($"mutate: {exercise.Id}: " + (score is null ? "no score (see the output above)" : $"mutation score {score.Groups[1].Value}%"));
            failed += run.Succeeded ? 0 : 1;
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>Restores the tools of build/quality/ (Stryker.NET, ReportGenerator).</summary>
    internal static void Restore(KataRepo repo, string quality, CancellationToken cancel)
    {
        var restore = Dotnet.Run(["tool", "restore"], quality, TimeSpan.FromMinutes(5), cancel);
        if (!restore.Succeeded)
        {
            throw new KataException("Could not restore the tools in build/quality/: " + string.Join(" ", restore.Output.TakeLast(5)));
        }
    }

    [GeneratedRegex(@"mutation score (?:is|of) (\d+(?:\.\d+)?) ?%", RegexOptions.IgnoreCase)]
    private static partial Regex Score();
}
