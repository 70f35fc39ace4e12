namespace ConcurrencyKata.Companion;

/// <summary>One thing the catalog runs the tests against: a known-wrong entry or a step-by-step stage.</summary>
internal abstract record CatalogUnit(string Exercise, string Name)
{
    /// <summary>How the unit is named on the command line and in reports: <c>01-work-queue/03-if-instead-of-while</c>.</summary>
    public string Id => $"{Exercise}/{Name}";

    /// <summary>Where it is laid out, built from and run, under the repository: artifacts/catalog/&lt;exercise&gt;/&lt;name&gt;/.</summary>
    public string WorkFolder(KataRepo repo) => Path.Combine(repo.Root, "artifacts", "catalog", Exercise, Name.Replace('/', Path.DirectorySeparatorChar));
}

/// <summary>
/// A known-wrong implementation: a patch against solutions/ with one realistic bug (catalog/README.md). Before the
/// diff, header lines say what it is: <c>Bug:</c>, <c>Expect:</c> (text the learner must see on the board),
/// <c>Lesson:</c>, and, for a data race that a test can only catch by forcing or exploring interleavings,
/// <c>Race:</c> (CI judges it several times).
/// </summary>
internal sealed record CatalogEntry(string Exercise, string Name, string PatchFile, string Bug, string Expect, string Lesson, string? Race)
    : CatalogUnit(Exercise, Name)
{
    /// <summary>Reads an entry's header.</summary>
    public static CatalogEntry Read(string exercise, string patchFile)
    {
        var header = File.ReadLines(patchFile).TakeWhile(l => !l.StartsWith("--- ", StringComparison.Ordinal) && !l.StartsWith("diff ", StringComparison.Ordinal)).ToList();
        string? Field(string name) => header.Where(l => l.StartsWith(name + ": ", StringComparison.Ordinal)).Select(l => l[(name.Length + 2)..].Trim()).FirstOrDefault();
        return new CatalogEntry(exercise, Path.GetFileNameWithoutExtension(patchFile), patchFile,
            Field("Bug") ?? "", Field("Expect") ?? "", Field("Lesson") ?? "", Field("Race"));
    }
}

/// <summary>
/// A step-by-step stage: the stubs with <c>steps/after-step-1..N</c> laid over them (<see cref="StageAssembler"/>),
/// the code of a learner who has just finished Step N. It must pass every test of Steps 1..N and fail some later one.
/// </summary>
internal sealed record CatalogStage(string Exercise, int Step) : CatalogUnit(Exercise, $"steps/after-step-{Step}");
