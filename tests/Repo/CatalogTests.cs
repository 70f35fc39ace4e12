namespace ConcurrencyKata.Tests.Repo;

/// <summary>The known-wrong catalog is teaching material: every entry says what its bug is, what the tests say
/// about it and what to learn, and its exercise's README lists it. (CI's catalog/run proves each is rejected.)</summary>
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
}
