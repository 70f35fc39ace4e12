namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Base class for every fixture that runs learner code on threads. At tear-down it checks that no
/// <see cref="LearnerThread"/> the test started is still running (../shared/TESTING.md, rule 14): a correct
/// implementation lets every test release every thread it blocked.
/// </summary>
public abstract class ConcurrencyTest
{
    /// <summary>Fails a passing test whose threads outlive it. A test that already failed is left with its own,
    /// more precise message, and its stuck threads are abandoned (they are background threads).</summary>
    [TearDown]
    public void NoLearnerThreadOutlivesItsTest()
    {
        bool passedSoFar = TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed;
        LearnerThread.AssertNoneLeftRunning(Deadlines.Hang, report: passedSoFar);
    }
}
