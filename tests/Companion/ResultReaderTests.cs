using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>The board's only source of truth is what dotnet test wrote: these read recorded runs.</summary>
[TestFixture]
public sealed class ResultReaderTests
{
    [Test]
    public void Stubs_fail_with_NotImplementedException_and_take_their_step_from_the_StepN_category()
    {
        var results = Recorded.Read("stubs-01");

        results.Tests.Count.ShouldBe(8, "the fixture keeps two tests per step");
        results.Tests.ShouldAllBe(t => t.Exercise == "01-work-queue");
        results.Tests.ShouldAllBe(t => t.Outcome == TestOutcome.NotImplemented);
        results.Tests.Select(t => t.Step).Distinct().Order().ShouldBe([1, 2, 3, 4]);
        results.Tests.ShouldAllBe(t => t.Diagnosis!.Kind == DiagnosisKind.NotImplemented && t.Diagnosis.Text.StartsWith("not implemented yet: Step ", StringComparison.Ordinal));
        results.Tests.ShouldAllBe(t => t.Message.Contains("NotImplementedException", StringComparison.Ordinal));
        results.Problems.ShouldBeEmpty();
        results.BuildErrors.ShouldBeEmpty();
    }

    [Test]
    public void A_reference_run_passes_every_test()
    {
        var results = Recorded.Read("reference-01");

        results.Tests.Count.ShouldBe(8);
        results.Tests.ShouldAllBe(t => t.Outcome == TestOutcome.Passed);
        results.Problems.ShouldBeEmpty();
    }

    [Test]
    public void The_step_is_the_Step_attribute_read_from_the_test_assembly_not_the_fixture_name()
    {
        var map = StepMap.Read(typeof(Step1_Misnamed).Assembly.Location);

        map.StepOf(typeof(Step1_Misnamed).FullName!, "A_test").ShouldBe(3, "[Step(3)] decides, whatever the class is called");
        map.StepOf(typeof(Step1_Misnamed).FullName!, "A_test(1,2)").ShouldBe(3, "a parameterised test has its fixture's step");
        map.StepOf(typeof(Step1_Misnamed).FullName!, nameof(Step1_Misnamed.Tagged_on_the_test)).ShouldBe(2, "a test's own [Step] wins over its fixture's");
        map.StepOf(typeof(ResultReaderTests).FullName!, "Anything").ShouldBeNull("a fixture without [Step] has no step");
        StepMap.Read("/no/such/assembly.dll").StepOf(typeof(Step1_Misnamed).FullName!, "A_test").ShouldBeNull();
    }

    [Test]
    public void A_recorded_run_takes_each_tests_step_from_the_step_map()
    {
        var results = Recorded.Read("partial-01");

        results.Tests.ShouldAllBe(t => t.Step != null);
        results.Tests.Count(t => t.Step == 2 && t.Outcome == TestOutcome.Passed).ShouldBe(1);
        results.Tests.Count(t => t.Step == 2 && t.Outcome == TestOutcome.Failed).ShouldBe(1);
        results.Tests.Single(t => t.Outcome == TestOutcome.Failed).Message.ShouldContain("lost update");
    }

    [Test]
    public void An_aborted_run_keeps_what_ran_and_says_the_test_host_crashed_and_in_which_test()
    {
        var results = Recorded.Read("aborted-01");

        results.Tests.ShouldNotBeEmpty();
        results.Tests.ShouldAllBe(t => t.Outcome == TestOutcome.Passed, "the tests that ran before the crash passed");
        results.Tests.ShouldNotContain(t => t.Step == 4, "the crash happened in step 4, before any step 4 result was written");
        results.Problems.ShouldContain(p => p.Exercise == "01-work-queue" && p.Text.Contains("Test host process crashed", StringComparison.Ordinal));
        results.Problems.ShouldContain(p => p.Text.Contains("kata fixture: a simulated test host crash", StringComparison.Ordinal), "the reason, without the stack trace");
        results.Problems.ShouldContain(p => p.Exercise == "01-work-queue" && p.Text.Contains("died while running Step4_TaskTrackingAndShutdown.", StringComparison.Ordinal));
        results.Problems.ShouldNotContain(p => p.Text.Contains(" at System.", StringComparison.Ordinal));
    }

    [Test]
    public void A_failed_build_yields_its_compiler_errors_and_no_test()
    {
        var results = Recorded.Read("build-failed-01");

        results.Tests.ShouldBeEmpty();
        var error = results.BuildErrors.ShouldHaveSingleItem();
        error.Exercise.ShouldBe("01-work-queue");
        error.File.ShouldBe("exercises/01-work-queue/WorkQueue/WorkQueue.cs");
        error.Line.ShouldBe(33);
        error.Code.ShouldBe("CS0103");
        error.Message.ShouldBe("The name '_items' does not exist in the current context");
    }

    [Test]
    public void Build_errors_are_counted_once_and_warnings_are_ignored()
    {
        string[] output =
        [
            "/k/exercises/01-work-queue/WorkQueue/WorkQueue.cs(10,5): error CS1002: ; expected [/k/exercises/01-work-queue/WorkQueue/WorkQueue.csproj]",
            "/k/exercises/01-work-queue/WorkQueue/WorkQueue.cs(11,5): warning CS0168: The variable 'x' is declared but never used [/k/exercises/01-work-queue/WorkQueue/WorkQueue.csproj]",
            "    /k/exercises/01-work-queue/WorkQueue/WorkQueue.cs(10,5): error CS1002: ; expected [/k/exercises/01-work-queue/WorkQueue/WorkQueue.csproj]",
            @"C:\k\exercises\02-prime-pool\PrimePool\PrimePool.cs(3,1): error RS0030: The symbol 'BlockingCollection<T>' is banned [C:\k\exercises\02-prime-pool\PrimePool\PrimePool.csproj]",
        ];

        var errors = ResultReader.ReadBuildErrors(output);

        errors.Count.ShouldBe(2);
        errors[0].Exercise.ShouldBe("01-work-queue");
        errors[1].Exercise.ShouldBe("02-prime-pool");
        errors[1].File.ShouldBe("exercises/02-prime-pool/PrimePool/PrimePool.cs");
    }

    [Test]
    public void A_truncated_results_file_is_a_problem_not_a_crash()
    {
        var folder = Directory.CreateTempSubdirectory("kata-tool-").FullName;
        try
        {
            var trx = File.ReadAllText(Path.Combine(Recorded.Folder("stubs-01"), "results.trx"));
            File.WriteAllText(Path.Combine(folder, "cut.trx"), trx[..(trx.Length / 2)]);

            var results = ResultReader.ReadDirectory(folder);

            results.Tests.ShouldBeEmpty();
            results.Problems.ShouldHaveSingleItem().Text.ShouldContain("unreadable");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void A_missing_results_folder_means_no_results()
    {
        var results = ResultReader.ReadDirectory(Path.Combine(Path.GetTempPath(), "kata-no-such-folder-" + Guid.NewGuid().ToString("N")));

        results.Tests.ShouldBeEmpty();
        results.Problems.ShouldBeEmpty();
    }

    [TestCase("/home/a/kata/tests/01-work-queue/bin/exercises/Debug/net10.0/WorkQueue.Tests.dll", "01-work-queue")]
    [TestCase(@"C:\kata\exercises\03-hybrid-pipeline\Pipeline\Pipeline.cs", "03-hybrid-pipeline")]
    [TestCase("/home/a/kata/tests/Repo/bin/solutions/Debug/net10.0/Kata.Repo.Tests.dll", null)]
    [TestCase("", null)]
    public void The_exercise_of_a_path_is_its_numbered_folder(string path, string? exercise) =>
        ResultReader.ExerciseOf(path).ShouldBe(exercise);
}

/// <summary>A class named for Step 1 that grades Step 3: only the attribute counts (see StepMap).</summary>
[Step(3)]
internal sealed class Step1_Misnamed
{
    [Step(2)]
    public static void Tagged_on_the_test()
    {
    }
}
