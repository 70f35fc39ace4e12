using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>catalog/&lt;exercise&gt;/coverage.tsv tells the coverage check which entry to run for a test: a map that
/// names an entry that is gone makes CI search again, slowly, on every run.</summary>
[TestFixture]
public sealed class CoverageMapTests
{
    private static readonly KataRepo Repo = KataRepo.Find(AppContext.BaseDirectory);

    [Test]
    public void Every_exercise_with_a_catalog_has_a_coverage_map_that_names_only_its_own_entries()
    {
        var catalog = Catalog.Load(Repo);
        foreach (var exercise in catalog.Entries.Select(e => e.Exercise).Distinct())
        {
            var map = CoverageMap.Load(Repo, exercise);
            map.ShouldNotBeEmpty($"{exercise} has no catalog/{exercise}/coverage.tsv: kata catalog {exercise} --strict --update-coverage-map");
            var entries = catalog.Entries.Where(e => e.Exercise == exercise).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            map.Values.Where(e => !entries.Contains(e)).ShouldBeEmpty(
                $"catalog/{exercise}/coverage.tsv names entries that are not in the catalog: kata catalog {exercise} --strict --update-coverage-map");
        }
    }
}
