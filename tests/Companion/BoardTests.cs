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
        steps[1].FirstFailure.ShouldNotBeNull().ShouldContain("lost update");
        steps[2].State.ShouldBe(StepState.NotStarted);
        board.Points.ShouldBe(steps[0].Tests);
        board.MaxPoints.ShouldBe(8);
        board.Next.ShouldNotBeNull().Step.ShouldBe(2);
    }

    [Test]
    public void A_reference_run_is_all_done_with_no_next_step()
    {
        var board = BoardBuilder.Build("reference", Recorded.Exercises.Take(1).ToList(), Recorded.Read("reference-01"));

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
    }

    [Test]
    public void The_next_step_is_in_the_first_exercise_by_number_that_is_not_done()
    {
        var results = Recorded.Read("reference-01");
        var ex02 = new TestResult("02-prime-pool", "ConcurrencyKata.Tests.PrimePool.Step1_IsPrime", "Two_is_prime", 1, TestOutcome.NotImplemented, "System.NotImplementedException : Step 1");
        var board = BoardBuilder.Build("learner", Recorded.Exercises, results with { Tests = [.. results.Tests, ex02] }, Recorded.Hint);

        board.Next.ShouldNotBeNull();
        board.Next.Exercise.ShouldBe("02-prime-pool");
        board.Next.Step.ShouldBe(1);
    }
}
