using System.ComponentModel;
using System.Text.RegularExpressions;
using Spectre.Console.Cli;

namespace ConcurrencyKata.Companion;

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
