namespace ConcurrencyKata.Tests.Repo;

/// <summary>The known-wrong catalog is teaching material: every entry says what its bug is, what the tests say
/// about it and what to learn, and its exercise's README lists it. (CI's catalog/run proves each is rejected.)
/// Its step-by-step stages are laid over the stubs one after another, so they may only replace stub files, and each
/// holds only the files its step changes.</summary>
[TestFixture]
public sealed class CatalogTests
{
    [Test]
    public void Every_catalog_entry_is_described_and_listed_in_its_exercise_README()
    {
        string catalog = RepoFiles.PathOf("catalog");
        string[] exercises = Directory.GetDirectories(catalog).Select(Path.GetFileName).OfType<string>().Order().ToArray();
        exercises.ShouldNotBeEmpty();

        foreach (string exercise in exercises)
        {
            string[] patches = Directory.GetFiles(Path.Combine(catalog, exercise), "*.patch");
            patches.Length.ShouldBeGreaterThanOrEqualTo(10, $"catalog/{exercise} needs at least 10 known-wrong implementations.");
            string readme = File.ReadAllText(RepoFiles.PathOf($"exercises/{exercise}/README.md"));

            foreach (string patch in patches)
            {
                string name = Path.GetFileNameWithoutExtension(patch);
                string[] header = File.ReadLines(patch).TakeWhile(line => !line.StartsWith("--- ", StringComparison.Ordinal)).ToArray();
                foreach (string field in new[] { "Bug: ", "Expect: ", "Lesson: " })
                {
                    header.ShouldContain(line => line.StartsWith(field, StringComparison.Ordinal) && line.Length > field.Length + 3,
                        $"catalog/{exercise}/{name}.patch needs a '{field.Trim()}' line before the diff.");
                }

                readme.ShouldContain(name, Case.Sensitive, $"exercises/{exercise}/README.md must list catalog entry {name}.");
            }
        }
    }

    /// <summary>The file in a stage folder that lists the files the step finishes exactly as solutions/ has them.</summary>
    private const string FromSolutions = "from-solutions";

    [Test]
    public void Every_exercise_has_step_by_step_stages_that_each_change_stub_files()
    {
        string catalog = RepoFiles.PathOf("catalog");
        foreach (string exercise in Directory.GetDirectories(catalog).Select(Path.GetFileName).OfType<string>().Order())
        {
            string steps = Path.Combine(catalog, exercise, "steps");
            Directory.Exists(steps).ShouldBeTrue($"catalog/{exercise}/steps/ needs the learner's code after each step (see catalog/README.md).");
            string[] stages = Directory.GetDirectories(steps).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
            stages.ShouldBe(Enumerable.Range(1, stages.Length).Select(n => $"after-step-{n}").ToArray(),
                $"catalog/{exercise}/steps/ holds after-step-1, after-step-2, ... with no gap and nothing else.");
            stages.ShouldNotBeEmpty($"catalog/{exercise}/steps/ needs at least after-step-1.");

            // Stage N is the stubs with after-step-1..N laid over them in order: each file as the steps so far left it.
            var current = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string stage in stages)
            {
                string stageRoot = Path.Combine(steps, stage);
                string listPath = Path.Combine(stageRoot, FromSolutions);

                // A file the step finishes exactly as the solution has it is listed in from-solutions, not copied.
                var changed = new List<(string Relative, string Text)>();
                foreach (string file in Directory.GetFiles(stageRoot, "*", SearchOption.AllDirectories).Where(f => f != listPath))
                {
                    changed.Add((Path.GetRelativePath(stageRoot, file).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(file)));
                }

                string[] fromSolutions = File.Exists(listPath) ? File.ReadAllLines(listPath).Where(l => l.Length > 0).ToArray() : [];
                foreach (string listed in fromSolutions)
                {
                    string solution = RepoFiles.PathOf($"solutions/{exercise}/{listed}");
                    File.Exists(solution).ShouldBeTrue($"catalog/{exercise}/steps/{stage}/{FromSolutions} lists {listed}, which solutions/{exercise}/ does not have.");
                    changed.Add((listed, File.ReadAllText(solution)));
                }

                changed.ShouldNotBeEmpty($"catalog/{exercise}/steps/{stage} changes nothing.");
                foreach ((string relative, string text) in changed)
                {
                    string stub = RepoFiles.PathOf($"exercises/{exercise}/{relative}");
                    File.Exists(stub).ShouldBeTrue(
                        $"catalog/{exercise}/steps/{stage}/{relative} replaces no stub file: a stage is laid over exercises/{exercise}/ and may only replace its files.");
                    string before = current.TryGetValue(relative, out string? earlier) ? earlier : File.ReadAllText(stub);
                    text.ShouldNotBe(before,
                        $"catalog/{exercise}/steps/{stage}/{relative} is the same as the steps before it left it: a stage folder holds only the files its step changes.");
                    string solutionFile = RepoFiles.PathOf($"solutions/{exercise}/{relative}");
                    bool copiesTheSolution = !fromSolutions.Contains(relative) && File.Exists(solutionFile) && text == File.ReadAllText(solutionFile);
                    copiesTheSolution.ShouldBeFalse(
                        $"catalog/{exercise}/steps/{stage}/{relative} is the solution's file: list it in {FromSolutions} instead of copying it.");

                    current[relative] = text;
                }
            }
        }
    }
}
