using System.ComponentModel;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

/// <summary>Options of <c>kata mutate</c> and <c>kata coverage</c>.</summary>
internal sealed class QualitySettings : KataSettings
{
    [CommandArgument(0, "[EXERCISES]")]
    [Description("The exercises (01, 01-work-queue, …). Default: every exercise.")]
    public string[] Exercises { get; init; } = [];
}

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

/// <summary>
/// <c>kata coverage [exercise]</c>: line and branch coverage of each exercise's reference solution by its tests
/// (coverlet, collected by dotnet test; ReportGenerator from build/quality/). Prints the figures and writes an HTML
/// report to artifacts/coverage/report/.
/// </summary>
internal sealed partial class CoverageCommand : Command<QualitySettings>
{
    public override int Execute(CommandContext context, QualitySettings settings, CancellationToken cancellationToken)
    {
        var repo = settings.Repo();
        var quality = Path.Combine(repo.Root, "build", "quality");
        MutateCommand.Restore(repo, quality, cancellationToken);
        var root = Path.Combine(repo.Root, "artifacts", "coverage");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        var reports = new List<string>();
        var assemblies = new List<string>();
        foreach (var exercise in Quality.Exercises(repo, settings.Exercises))
        {
            var mine = Directory.GetFiles(Path.Combine(repo.Root, "solutions", exercise.Id), "*.csproj", SearchOption.AllDirectories)
                .Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();
            assemblies.AddRange(mine);
            var include = string.Join(",", mine.Select(a => $"[{a}]*"));
            var results = Path.Combine(root, exercise.Id);
            Console.Out.WriteLine($"coverage: {exercise.Id} ({string.Join(", ", mine)}) by tests/{exercise.Id}");
            var run = Dotnet.Run(
                ["test", exercise.TestProject, "-p:KataTarget=solutions", "--collect", "XPlat Code Coverage", "--results-directory", results,
                 "--", $"DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.Include={include}",
                 "DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.ExcludeByAttribute=GeneratedCodeAttribute,CompilerGeneratedAttribute"],
                repo.Root, TimeSpan.FromMinutes(30), cancellationToken);
            reports.AddRange(Directory.Exists(results) ? Directory.GetFiles(results, "coverage.cobertura.xml", SearchOption.AllDirectories) : []);
            if (run.ExitCode != 0)
            {
                Console.Out.WriteLine($"coverage: the tests of {exercise.Id} did not all pass: the figures cover what ran");
            }
        }

        if (reports.Count == 0)
        {
            throw new KataException("No coverage was collected.");
        }

        var report = Path.Combine(root, "report");
        var generate = Dotnet.Run(
            ["reportgenerator", "-reports:" + string.Join(';', reports), "-targetdir:" + report, "-reporttypes:Html;TextSummary;MarkdownSummaryGithub",
             "-assemblyfilters:" + string.Join(';', assemblies.Distinct().Select(a => "+" + a))],
            quality, TimeSpan.FromMinutes(10), cancellationToken);
        var summary = Path.Combine(report, "Summary.txt");
        if (!generate.Succeeded || !File.Exists(summary))
        {
            throw new KataException("ReportGenerator failed: " + string.Join(" ", generate.Output.TakeLast(5)));
        }

        Console.Out.WriteLine(File.ReadAllText(summary));
        Console.Out.WriteLine($"coverage: report in {repo.Relative(report)}/index.html");
        return 0;
    }
}

/// <summary>What the quality commands share.</summary>
internal static class Quality
{
    /// <summary>The exercises named (every exercise when none is), in number order.</summary>
    public static IReadOnlyList<ExerciseInfo> Exercises(KataRepo repo, IReadOnlyList<string> names) =>
        names.Count == 0 ? repo.Exercises : [.. names.Select(repo.Resolve).Distinct().OrderBy(e => e.Id, StringComparer.Ordinal)];
}
