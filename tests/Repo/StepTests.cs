using System.Text.RegularExpressions;

namespace ConcurrencyKata.Tests.Repo;

/// <summary>
/// A test's step is stated once, by <c>[Step(N)]</c> on its fixture (or test): that is what every tool reads. The
/// fixture's name starts with <c>StepN_</c> too, for people reading the tests; the two must never disagree.
/// </summary>
[TestFixture]
public sealed partial class StepTests
{
    [Test]
    public void Every_step_fixture_is_named_for_the_step_its_Step_attribute_gives()
    {
        var fixtures = 0;
        foreach (string file in Directory.GetFiles(RepoFiles.PathOf("tests"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => ExerciseTests().IsMatch(f.Replace('\\', '/')) && !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(file);
            string name = Path.GetRelativePath(RepoFiles.Root, file).Replace('\\', '/');
            foreach (Match fixture in StepFixture().Matches(text))
            {
                fixtures++;
                string attribute = fixture.Groups["attribute"].Value;
                string prefix = fixture.Groups["prefix"].Value;
                attribute.ShouldBe(prefix, $"{name}: class Step{prefix}_{fixture.Groups["rest"].Value} carries [Step({attribute})]: the fixture's name and its step must say the same number.");
            }

            foreach (Match named in StepNamedClass().Matches(text))
            {
                StepFixture().Matches(text).Any(f => f.Index <= named.Index && named.Index < f.Index + f.Length).ShouldBeTrue(
                    $"{name}: class {named.Groups["name"].Value} is named for a step but has no [Step(N)] right above it: the board would not know its step.");
            }
        }

        fixtures.ShouldBeGreaterThan(10, "the exercises' step fixtures were not found");
    }

    [Test]
    public void Every_step_with_a_systematic_test_is_rewritten_for_Coyote()
    {
        // A test of category Systematic needs the learner's assembly rewritten by Coyote. The build rewrites it only
        // when a step listed in <KataSystematicSteps> is in scope (watch runs Steps 1..N), so a systematic test in a
        // step missing from that list would fail with "not rewritten" in the learner's loop and in the catalog.
        foreach (string project in Directory.GetFiles(RepoFiles.PathOf("tests"), "*.Tests.csproj", SearchOption.AllDirectories)
                     .Where(f => ExerciseTests().IsMatch(f.Replace('\\', '/'))))
        {
            string listed = SystematicSteps().Match(File.ReadAllText(project)).Groups["steps"].Value;
            var rewritten = listed.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
            foreach (string file in Directory.GetFiles(Path.GetDirectoryName(project)!, "Step*.cs"))
            {
                string text = File.ReadAllText(file);
                string? step = StepFixture().Match(text) is { Success: true } fixture ? fixture.Groups["attribute"].Value : null;
                if (step is null || !text.Contains("Systematic.Category", StringComparison.Ordinal))
                {
                    continue;
                }

                rewritten.ShouldContain(step,
                    $"{Path.GetRelativePath(RepoFiles.Root, file).Replace('\\', '/')} has a systematic test in Step {step}: " +
                    $"list {step} in <KataSystematicSteps> of {Path.GetFileName(project)} (it says \"{listed}\").");
            }
        }
    }

    [GeneratedRegex(@"<KataSystematicSteps>(?<steps>[^<]*)</KataSystematicSteps>")]
    private static partial Regex SystematicSteps();

    [GeneratedRegex(@"/tests/\d{2}-[a-z0-9-]+/")]
    private static partial Regex ExerciseTests();

    /// <summary>[Step(N)] followed (after other attributes and modifiers) by class StepM_….</summary>
    [GeneratedRegex(@"\[Step\((?<attribute>\d+)\)\][^{;]*?\bclass\s+Step(?<prefix>\d+)_(?<rest>\w+)", RegexOptions.Singleline)]
    private static partial Regex StepFixture();

    [GeneratedRegex(@"\bclass\s+(?<name>Step\d+_\w+)")]
    private static partial Regex StepNamedClass();
}
