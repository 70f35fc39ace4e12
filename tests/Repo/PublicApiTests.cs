using System.Runtime.Loader;
using PublicApiGenerator;
using Snapshooter;
using Snapshooter.NUnit;

namespace ConcurrencyKata.Tests.Repo;

/// <summary>
/// A stub can never drift from its solution: for every exercise project, the public API of exercises/ must equal
/// that of solutions/, and the solution's API is snapshotted (tests/Repo/__snapshots__/), so that any change to
/// what learners implement shows up in review. CI fails if a run creates a snapshot that was not committed.
/// </summary>
[TestFixture]
public sealed class PublicApiTests
{
    [Test]
    public void Every_stub_has_exactly_the_public_API_of_its_solution()
    {
        var assemblies = ReadManifest();
        var solutions = assemblies.Where(a => a.Kind == "solutions").ToList();
        solutions.ShouldNotBeEmpty("The manifest lists no solution project: the build did not write kata-assemblies.txt.");

        foreach (var solution in solutions)
        {
            var stub = assemblies.SingleOrDefault(a => a.Kind == "exercises" && a.Project == solution.Project);
            stub.ShouldNotBe(default, $"solutions/{solution.Project} has no counterpart under exercises/.");

            string solutionApi = PublicApiOf(solution.AssemblyPath);
            string stubApi = PublicApiOf(stub.AssemblyPath);
            stubApi.ShouldBe(
                solutionApi,
                $"exercises/{stub.Project} must have exactly the public API of solutions/{solution.Project}: same types, members, " +
                "signatures and attributes. Change both, then update the snapshot.");

            Snapshot.Match(
                solutionApi.Split('\n').Select(line => line.TrimEnd('\r')).ToArray(),
                new SnapshotNameExtension(Path.GetDirectoryName(solution.Project)!.Replace('\\', '/').Replace('/', '.')));
        }
    }

    private static List<(string Kind, string Project, string AssemblyPath)> ReadManifest()
    {
        string manifest = Path.Combine(AppContext.BaseDirectory, "kata-assemblies.txt");
        File.Exists(manifest).ShouldBeTrue($"{manifest} is missing: it is written by the build (KataWriteAssemblyManifest).");
        return File.ReadAllLines(manifest)
            .Where(line => line.Contains('|', StringComparison.Ordinal))
            .Select(line =>
            {
                string[] parts = line.Split('|');
                string relative = Path.GetRelativePath(RepoFiles.Root, parts[0]).Replace('\\', '/');
                string kind = relative.Split('/')[0];
                string project = relative[(kind.Length + 1)..];
                return (kind, project, parts[1]);
            })
            .ToList();
    }

    private static string PublicApiOf(string assemblyPath)
    {
        // Stub and solution share an assembly name: each is loaded into its own collectible context.
        var context = new AssemblyLoadContext(assemblyPath, isCollectible: true);
        try
        {
            return context.LoadFromAssemblyPath(assemblyPath).GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false });
        }
        finally
        {
            context.Unload();
        }
    }
}
