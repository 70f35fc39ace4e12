namespace ConcurrencyKata.Companion;

/// <summary>
/// catalog/&lt;exercise&gt;/coverage.tsv: for each test of an exercise, a known-wrong entry it fails on. The coverage
/// check (docs/testing.md, rule 18) asks it first, so that a test the catalog's early-stopping runs never reached is
/// run against the one entry known to fail it instead of searched for. It is only a guide: a test whose entry no
/// longer fails it is searched for as before, and <c>kata catalog --strict --update-coverage-map</c> writes it again.
/// </summary>
internal static class CoverageMap
{
    private const string FileName = "coverage.tsv";

    /// <summary>The map's file for an exercise.</summary>
    public static string PathOf(KataRepo repo, string exercise) => Path.Combine(repo.Root, "catalog", exercise, FileName);

    /// <summary>Test (Class.Method) → entry name; empty when the exercise has no map.</summary>
    public static IReadOnlyDictionary<string, string> Load(KataRepo repo, string exercise)
    {
        var path = PathOf(repo, exercise);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return map;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split('\t');
            if (parts.Length == 2)
            {
                map[parts[0]] = parts[1];
            }
        }

        return map;
    }

    /// <summary>Writes the map (sorted by test, so that a change reads well in a diff).</summary>
    public static void Save(KataRepo repo, string exercise, IReadOnlyDictionary<string, string> map)
    {
        var lines = new List<string>
        {
            "# For each test, a known-wrong entry of this folder that it fails on: the coverage check (docs/testing.md,",
            "# rule 18) runs that entry first instead of searching. Written by: kata catalog <exercise> --strict --update-coverage-map",
        };
        lines.AddRange(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "\t" + p.Value));
        File.WriteAllLines(PathOf(repo, exercise), lines);
    }
}
