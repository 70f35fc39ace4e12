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
    public void Multiple_failures_are_read_one_by_one_and_a_repeat_of_the_same_rule_is_dropped()
    {
        var d = Diagnosis.Of("T",
            "Multiple failures or warnings in test:\n" +
            "  1) Threw nothing, but should have thrown LockOrderViolationException. Ranks must strictly increase.\n" +
            "     at X.Y() in /k/tests/04/Step4.cs:line 3\n" +
            "  2) ConcurrencyKata.TestSupport.LearnerCodeException : a thread holding C threw AssertionException: Threw nothing, but should have thrown LockOrderViolationException. Ranks must strictly increase.\n");

        d.Kind.ShouldBe(DiagnosisKind.NamesARule);
        d.Text.ShouldBe("Threw nothing, but should have thrown LockOrderViolationException. Ranks must strictly increase.");
    }

    [Test]
    public void A_failure_in_set_up_is_read_like_one_in_the_test() =>
        Diagnosis.Of("T", "SetUp : System.NotImplementedException : Step 4 (exercise 04): implement the OrderedLock constructor.").Kind.ShouldBe(DiagnosisKind.NotImplemented);

    [Test]
    public void A_very_long_diagnosis_is_cut_with_an_ellipsis() =>
        Diagnosis.Of("T", new string('x', 5000)).Text.Length.ShouldBe(Diagnosis.MaxLength);
}
