using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>The companion finds the exercises, their steps and hints from the folders, never from a list.</summary>
[TestFixture]
public sealed class RepoTests
{
    private static readonly KataRepo Repo = KataRepo.Find(AppContext.BaseDirectory);

    [Test]
    public void Every_exercise_folder_with_a_test_project_is_found_in_number_order_with_its_README_steps()
    {
        var expected = Directory.GetDirectories(Path.Combine(Repo.Root, "exercises"))
            .Select(Path.GetFileName)
            .Where(n => Directory.Exists(Path.Combine(Repo.Root, "tests", n!)) && Directory.GetFiles(Path.Combine(Repo.Root, "tests", n!), "*.csproj").Length > 0)
            .Order(StringComparer.Ordinal)
            .ToList();

        Repo.Exercises.Select(e => e.Id).ShouldBe(expected);
        Repo.Exercises.ShouldContain(e => e.Id == "01-work-queue");
        foreach (var exercise in Repo.Exercises)
        {
            exercise.Steps.ShouldNotBeEmpty($"exercises/{exercise.Id}/README.md has no `## Step N: Title` heading");
            exercise.Steps.Select(s => s.Number).ShouldBe(Enumerable.Range(1, exercise.Steps.Count), $"exercises/{exercise.Id}/README.md: steps must be numbered 1, 2, 3…");
            exercise.Title.ShouldNotBe(exercise.Id, $"exercises/{exercise.Id}/README.md has no `# Exercise NN — Title` heading");
        }
    }

    [Test]
    public void Every_step_of_every_exercise_has_hints_in_HINTS_md()
    {
        foreach (var exercise in Repo.Exercises)
        {
            var hints = Hints.Read(exercise.HintsFile);
            foreach (var step in exercise.Steps)
            {
                hints.ShouldContainKey(step.Number, $"exercises/{exercise.Id}/HINTS.md has no `### Step {step.Number}` section with <details><summary>Hint 1</summary> blocks");
                hints[step.Number].ShouldNotBeEmpty();
                hints[step.Number].ShouldAllBe(h => h.Length > 0 && !h.Contains("<details>", StringComparison.Ordinal) && !h.Contains("</summary>", StringComparison.Ordinal));
            }
        }
    }

    [TestCase("01")]
    [TestCase("1")]
    [TestCase("01-work-queue")]
    [TestCase("work-queue")]
    [TestCase("exercises/01-work-queue/")]
    public void An_exercise_is_named_by_number_or_folder(string name) =>
        Repo.Resolve(name).Id.ShouldBe("01-work-queue");

    [Test]
    public void An_unknown_exercise_is_refused_with_the_list_of_exercises() =>
        Should.Throw<KataException>(() => Repo.Resolve("99")).Message.ShouldContain("01-work-queue");

    [Test]
    public void Hints_are_revealed_one_more_each_time_and_remembered()
    {
        var folder = Directory.CreateTempSubdirectory("kata-hints-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, KataRepo.SolutionFile), "");
            var repo = KataRepo.Find(folder);
            var state = HintState.Load(repo);
            state.Revealed("01-work-queue", 2).ShouldBe(0);
            state.Reveal("01-work-queue", 2, 1);
            state.Reveal("01-work-queue", 2, 2);
            state.Reveal("01-work-queue", 2, 1);
            state.Save();

            var again = HintState.Load(repo);
            again.Revealed("01-work-queue", 2).ShouldBe(2, "revealing never goes backwards");
            again.Revealed("01-work-queue", 1).ShouldBe(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCase("WorkQueue/WorkQueue.cs", true)]
    [TestCase("WorkQueue/WorkQueue.csproj", true)]
    [TestCase("WorkQueue/obj/exercises/Debug/net10.0/WorkQueue.dll", false)]
    [TestCase("WorkQueue/bin/exercises/Debug/net10.0/WorkQueue.dll", false)]
    [TestCase("WorkQueue/.WorkQueue.cs.swp", false)]
    [TestCase("WorkQueue/WorkQueue.cs~", false)]
    [TestCase("WorkQueue/4913", false)]
    public void Watch_reacts_to_sources_not_to_build_output_or_editor_files(string relative, bool source) =>
        WatchCommand.IsSource("/kata/exercises/01-work-queue", "/kata/exercises/01-work-queue/" + relative).ShouldBe(source);
}
