using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Repo;

/// <summary>The known-wrong catalog is teaching material: every entry says what its bug is, what the tests say
/// about it and what to learn, and its exercise's README lists it. (CI's `kata catalog --strict` proves each is
/// rejected.) Its step-by-step stages are laid over the stubs one after another (the companion's StageAssembler, the
/// same code that builds them), so they may only replace stub files, and each holds only the files its step changes.</summary>
[TestFixture]
public sealed class CatalogTests
{
    private static readonly string[] Exercises = Directory.GetDirectories(RepoFiles.PathOf("catalog"))
        .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    [Test]
    public void Every_catalog_entry_is_described_and_listed_in_its_exercise_README()
    {
        Exercises.ShouldNotBeEmpty();
        foreach (string exercise in Exercises)
        {
            string[] patches = Directory.GetFiles(RepoFiles.PathOf($"catalog/{exercise}"), "*.patch");
            patches.Length.ShouldBeGreaterThanOrEqualTo(10, $"catalog/{exercise} needs at least 10 known-wrong implementations.");
            string readme = File.ReadAllText(RepoFiles.PathOf($"exercises/{exercise}/README.md"));

            foreach (string patch in patches)
            {
                CatalogEntry entry = CatalogEntry.Read(exercise, patch);
                foreach ((string field, string value) in new[] { ("Bug", entry.Bug), ("Expect", entry.Expect), ("Lesson", entry.Lesson) })
                {
                    value.Length.ShouldBeGreaterThan(3, $"catalog/{exercise}/{entry.Name}.patch needs a '{field}:' line before the diff.");
                }

                (entry.Race is null || entry.Race.Length > 3).ShouldBeTrue($"catalog/{exercise}/{entry.Name}.patch: a 'Race:' line says what races.");
                readme.ShouldContain(entry.Name, Case.Sensitive, $"exercises/{exercise}/README.md must list catalog entry {entry.Name}.");
            }
        }
    }

    [Test]
    public void Every_exercise_has_step_by_step_stages_that_each_change_stub_files()
    {
        foreach (string exercise in Exercises)
        {
            IReadOnlyList<StageLayer> layers = StageAssembler.Layers(RepoFiles.Root, exercise);
            string steps = RepoFiles.PathOf($"catalog/{exercise}/steps");
            string[] folders = Directory.Exists(steps) ? Directory.GetDirectories(steps).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray() : [];
            folders.ShouldBe(Enumerable.Range(1, folders.Length).Select(n => $"after-step-{n}").ToArray(),
                $"catalog/{exercise}/steps/ holds after-step-1, after-step-2, ... with no gap and nothing else.");
            layers.ShouldNotBeEmpty($"catalog/{exercise}/steps/ needs the learner's code after each step, at least after-step-1 (see catalog/README.md).");

            // Stage N is the stubs with after-step-1..N laid over them in order: each file as the steps so far left it.
            var current = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (StageLayer layer in layers)
            {
                string stage = $"catalog/{exercise}/steps/after-step-{layer.Step}";
                layer.Files.ShouldNotBeEmpty($"{stage} changes nothing.");
                foreach (StageFile file in layer.Files)
                {
                    string solution = RepoFiles.PathOf($"solutions/{exercise}/{file.Relative}");
                    if (file.FromSolutions)
                    {
                        File.Exists(solution).ShouldBeTrue($"{stage}/{StageAssembler.FromSolutionsList} lists {file.Relative}, which solutions/{exercise}/ does not have.");
                    }

                    string stub = RepoFiles.PathOf($"exercises/{exercise}/{file.Relative}");
                    File.Exists(stub).ShouldBeTrue(
                        $"{stage}/{file.Relative} replaces no stub file: a stage is laid over exercises/{exercise}/ and may only replace its files.");
                    string before = current.TryGetValue(file.Relative, out string? earlier) ? earlier : File.ReadAllText(stub);
                    file.Text.ShouldNotBe(before, $"{stage}/{file.Relative} is the same as the steps before it left it: a stage folder holds only the files its step changes.");
                    bool copiesTheSolution = !file.FromSolutions && File.Exists(solution) && file.Text == File.ReadAllText(solution);
                    copiesTheSolution.ShouldBeFalse($"{stage}/{file.Relative} is the solution's file: list it in {StageAssembler.FromSolutionsList} instead of copying it.");
                    current[file.Relative] = file.Text;
                }
            }
        }
    }
}
