using ConcurrencyKata.Companion;

namespace ConcurrencyKata.Tests.Companion;

/// <summary>How results become steps, points and the next step (the rules README.md documents).</summary>
[TestFixture]
public sealed class BoardTests
{
    [Test]
    public void On_the_stubs_every_step_is_not_started_and_the_next_step_is_01_step_1_with_its_first_hint()
    {
        var board = Recorded.Board("stubs-01");

        var ex01 = board.Exercises[0];
        ex01.State.ShouldBe(ExerciseState.Ran);
        ex01.Steps.Select(s => s.State).ShouldAllBe(s => s == StepState.NotStarted);
        board.Points.ShouldBe(0);
        board.Next.ShouldNotBeNull();
        board.Next.Exercise.ShouldBe("01-work-queue");
        board.Next.Step.ShouldBe(1);
        board.Next.Hint.ShouldNotBeNull().ShouldStartWith("First hint for step 1 of 01");
    }

    [Test]
    public void A_partial_run_shows_the_exercises_that_did_not_run_as_not_run()
    {
        var board = Recorded.Board("stubs-01");

        var ex02 = board.Exercises[1];
        ex02.State.ShouldBe(ExerciseState.NotRun);
        ex02.Steps.ShouldAllBe(s => s.State == StepState.NotRun && s.Tests == 0);
        ex02.Points.ShouldBe(0);
    }

    [Test]
    public void A_step_is_done_only_when_all_its_tests_pass_and_is_then_worth_its_number_of_tests()
    {
        var board = Recorded.Board("partial-01");

        var steps = board.Exercises[0].Steps;
        steps[0].State.ShouldBe(StepState.Done);
        steps[0].Points.ShouldBe(steps[0].Tests);
        steps[1].State.ShouldBe(StepState.InProgress, "one of its two tests passes");
        steps[1].Points.ShouldBe(0, "a step earns its points only when all its tests pass");
        steps[1].Failures.ShouldHaveSingleItem().Text.ShouldContain("lost update");
        steps[2].State.ShouldBe(StepState.NotStarted, "no test of it passes, and it is not the step being worked on");
        board.Points.ShouldBe(steps[0].Tests);
        board.MaxPoints.ShouldBe(8);
        board.Next.ShouldNotBeNull().Step.ShouldBe(2);
    }

    [Test]
    public void A_reference_run_is_all_done_with_no_next_step()
    {
        var board = BoardBuilder.Build(KataMode.Reference, Recorded.Exercises.Take(1).ToList(), Recorded.Read("reference-01"));

        board.Exercises[0].Done.ShouldBeTrue();
        board.Points.ShouldBe(board.MaxPoints);
        board.Next.ShouldBeNull();
    }

    [Test]
    public void An_aborted_run_marks_the_exercise_aborted_and_points_at_the_step_that_did_not_run()
    {
        var board = Recorded.Board("aborted-01");

        var ex01 = board.Exercises[0];
        ex01.State.ShouldBe(ExerciseState.Aborted);
        ex01.Problems.ShouldContain(p => p.Contains("Test host process crashed", StringComparison.Ordinal));
        ex01.Steps[3].State.ShouldBe(StepState.NotRun);
        ex01.Done.ShouldBeFalse();
        board.Next.ShouldNotBeNull().Step.ShouldBe(4);
    }

    [Test]
    public void A_failed_build_shows_the_compiler_error_not_an_empty_board()
    {
        var board = Recorded.Board("build-failed-01");

        var ex01 = board.Exercises[0];
        ex01.State.ShouldBe(ExerciseState.BuildFailed);
        ex01.Problems.ShouldHaveSingleItem().ShouldBe("exercises/01-work-queue/WorkQueue/WorkQueue.cs(33): CS0103: The name '_items' does not exist in the current context");
        board.Next.ShouldNotBeNull().Exercise.ShouldBe("01-work-queue");
        board.Next.FixBuildFirst.ShouldBeTrue();
    }

    [Test]
    public void After_a_build_error_the_board_keeps_the_learners_step_and_says_to_fix_the_build_first()
    {
        var before = Recorded.Board("partial-01");

        var board = BoardBuilder.Build(KataMode.Learner, Recorded.Exercises, Recorded.Read("build-failed-01"), Recorded.Hint, before);

        var ex01 = board.Exercises[0];
        ex01.State.ShouldBe(ExerciseState.BuildFailed);
        ex01.Steps.Select(s => s.State).ShouldBe(before.Exercises[0].Steps.Select(s => s.State), "the last known steps, not all 'not run'");
        board.Next.ShouldNotBeNull().Step.ShouldBe(2, "the learner was on Step 2, not back at Step 1");
        board.Next.FixBuildFirst.ShouldBeTrue();
        board.Next.Hint.ShouldNotBeNull().ShouldStartWith("First hint for step 2");
        board.Points.ShouldBe(before.Points, "the last known points stay on the board (a dojo leaderboard does not drop a team for a typo)");
    }

    [Test]
    public void The_step_being_worked_on_is_in_progress_when_its_tests_fail_but_a_later_step_that_fails_is_not_started()
    {
        TestResult Fails(int step, string name) => new("01-work-queue", $"ConcurrencyKata.Tests.WorkQueue.Step{step}_X", name, step, TestOutcome.Failed, "Take returned while the queue was empty.");
        var results = new RunResults([Fails(1, "A"), Fails(2, "B")], [], []);

        var steps = BoardBuilder.Build(KataMode.Learner, Recorded.Exercises.Take(1).ToList(), results).Exercises[0].Steps;

        steps[0].State.ShouldBe(StepState.InProgress, "Step 1 is the learner's current step, and their code runs");
        steps[1].State.ShouldBe(StepState.NotStarted, "no Step 2 test passes and the learner is not there yet");
    }

    [Test]
    public void The_board_leads_with_the_failures_that_name_a_rule_up_to_three_distinct_ones()
    {
        TestResult Fails(string name, string message) => new("01-work-queue", "ConcurrencyKata.Tests.WorkQueue.Step3_BlockingAndBounded", name, 3, TestOutcome.Failed, message);
        var results = new RunResults(
        [
            new("01-work-queue", "ConcurrencyKata.Tests.WorkQueue.Step1_SingleThreaded", "Ok", 1, TestOutcome.Passed, ""),
            new("01-work-queue", "ConcurrencyKata.Tests.WorkQueue.Step2_SafeUnderConcurrency", "Ok too", 2, TestOutcome.Passed, ""),
            Fails("Raw", "System.InvalidOperationException : Queue empty."),
            Fails("Thread", "ConcurrencyKata.TestSupport.LearnerCodeException : taker-1 threw InvalidOperationException: Queue empty.\n  ----> System.InvalidOperationException : Queue empty."),
            Fails("Rule", "Take returned while the queue was empty. Is Monitor.Wait inside a 'while' loop that re-checks the condition, not an 'if'?"),
            Fails("Same rule", "Take returned while the queue was empty. Is Monitor.Wait inside a 'while' loop that re-checks the condition, not an 'if'?"),
            Fails("Shouldly", "Shouldly.ShouldAssertException : queue.Count\n    should be\n0\n    but was\n1\n\nAdditional Info:\n    Lost wake-up: a waiting taker was never woken."),
        ], [], []);

        var next = BoardBuilder.Build(KataMode.Learner, Recorded.Exercises.Take(1).ToList(), results).Next.ShouldNotBeNull();

        next.Step.ShouldBe(3);
        next.Failures.Select(f => f.Test).ShouldBe(["Rule", "Shouldly", "Raw"], "rules first (once each), then what no test explained");
        next.Failures[0].Text.ShouldContain("while' loop");
        next.Failures[1].Text.ShouldStartWith("Lost wake-up: a waiting taker was never woken.");
        next.Failures[1].Text.ShouldContain("queue.Count should be 0 but was 1");
        next.Failures[2].Text.ShouldBe("Queue empty.");
    }

    [Test]
    public void The_next_step_is_in_the_first_exercise_by_number_that_is_not_done()
    {
        var results = Recorded.Read("reference-01");
        var ex02 = new TestResult("02-prime-pool", "ConcurrencyKata.Tests.PrimePool.Step1_IsPrime", "Two_is_prime", 1, TestOutcome.NotImplemented, "System.NotImplementedException : Step 1");
        var board = BoardBuilder.Build(KataMode.Learner, Recorded.Exercises, results with { Tests = [.. results.Tests, ex02] }, Recorded.Hint);

        board.Next.ShouldNotBeNull();
        board.Next.Exercise.ShouldBe("02-prime-pool");
        board.Next.Step.ShouldBe(1);
    }
}
