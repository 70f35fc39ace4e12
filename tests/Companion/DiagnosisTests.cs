using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>What the board shows of a failure: the diagnosis the test wrote, whole, and nothing that buries it.</summary>
[TestFixture]
public sealed class DiagnosisTests
{
    [Test]
    public void A_stubs_exception_says_not_implemented_yet_and_names_the_step()
    {
        var d = Diagnosis.Of("T", "System.NotImplementedException : Step 1 (exercise 01): implement Take. See Step 1 in exercises/01-work-queue/README.md.");

        d.Kind.ShouldBe(DiagnosisKind.NotImplemented);
        d.Text.ShouldBe("not implemented yet: Step 1 (exercise 01): implement Take. See Step 1 in exercises/01-work-queue/README.md.");
    }

    [Test]
    public void A_multi_line_diagnosis_is_kept_whole_without_stack_frames_or_inner_exceptions()
    {
        var d = Diagnosis.Of("T",
            "ConcurrencyKata.TestSupport.LearnerCodeException : producer-0 threw DebugAssertFailedException: capacity.\n" +
            "  ----> ConcurrencyKata.TestSupport.DebugAssertFailedException : capacity.\n" +
            "   at ConcurrencyKata.WorkQueue`1.Put(T item) in WorkQueue.cs:line 3");

        d.Kind.ShouldBe(DiagnosisKind.Unexplained);
        d.Text.ShouldBe("producer-0 threw DebugAssertFailedException: capacity.");
    }

    [Test]
    public void A_systematic_failure_keeps_the_broken_rule_and_leaves_the_step_table_to_dotnet_test()
    {
        var d = Diagnosis.Of("T",
            "Systematic testing broke \"two takers\" in schedule 1 of 300 (seed 20261126).\n" +
            "Broken rule (checked on joiner-1): Join returned while a task was still unfinished.\n\n" +
            "The schedule that breaks it, step by step (only one thread runs at a time; read top to bottom):\n" +
            "  step  thread    operation\n     1  test      Put(1) begins");

        d.Kind.ShouldBe(DiagnosisKind.NamesARule);
        d.Text.ShouldContain("Broken rule (checked on joiner-1): Join returned while a task was still unfinished.");
        d.Text.ShouldNotContain("Put(1) begins");
        d.Text.ShouldEndWith("(The breaking schedule, step by step, is in dotnet test's output.)");
    }

    [Test]
    public void A_very_long_diagnosis_is_cut_with_an_ellipsis() =>
        Diagnosis.Of("T", new string('x', 5000)).Text.Length.ShouldBe(Diagnosis.MaxLength);
}
