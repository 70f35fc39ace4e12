namespace ConcurrencyKata.Tests.Repo;

/// <summary>
/// Some files of an exercise are provided by the kata, not written by the learner (an instrumented lock, an
/// exception type). They carry the marker below and must be identical in exercises/ and solutions/, so that the
/// learner's code and the reference run on exactly the same parts, and a fix is never made in one tree only.
/// </summary>
[TestFixture]
public sealed class ProvidedFilesTests
{
    /// <summary>The first-line marker of a provided file.</summary>
    public const string Marker = "// Provided by the kata";

    [Test]
    public void Every_provided_file_is_identical_in_exercises_and_solutions()
    {
        string exercises = RepoFiles.PathOf("exercises");
        var provided = Directory.EnumerateFiles(exercises, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(path => File.ReadLines(path).FirstOrDefault()?.StartsWith(Marker, StringComparison.Ordinal) == true)
            .ToList();

        foreach (string path in provided)
        {
            string relative = Path.GetRelativePath(exercises, path);
            string twin = Path.Combine(RepoFiles.PathOf("solutions"), relative);
            File.Exists(twin).ShouldBeTrue($"exercises/{relative} is provided by the kata but solutions/{relative} is missing.");
            File.ReadAllText(twin).ShouldBe(
                File.ReadAllText(path),
                $"exercises/{relative} is provided by the kata and must be identical to solutions/{relative}: change both.");
        }
    }
}
