namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Base class for every fixture that runs learner code on threads. At tear-down it checks that no
/// <see cref="LearnerThread"/> the test started is still running (docs/testing.md, rule 14): a correct
/// implementation lets every test release every thread it blocked. It also fails a test during which some thread
/// died of an unhandled exception (see <see cref="UnhandledExceptions"/>), instead of letting it abort the run.
/// </summary>
public abstract class ConcurrencyTest
{
    static ConcurrencyTest() => UnhandledExceptions.EnsureInstalled();

    /// <summary>Forgets what escaped threads in earlier tests, so each test answers only for its own threads.</summary>
    [SetUp]
    public void StartWithNoUnhandledExceptions()
    {
        if (!DeadlineCommand.IsActive)
        {
            Assert.Fail(
                "This test runs without a deadline, so a hang in learner code would hang the whole run. Mark it with the kata's " +
                "[Test] (ConcurrencyKata.Tests.TestAttribute, found automatically inside namespace ConcurrencyKata.Tests), not NUnit's.");
        }

        UnhandledExceptions.TakeAll();
    }

    /// <summary>Fails a passing test whose threads outlive it. A test that already failed is left with its own,
    /// more precise message, and its stuck threads are abandoned (they are background threads).</summary>
    [TearDown]
    public void NoLearnerThreadOutlivesItsTest()
    {
        bool passedSoFar = TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed;
        LearnerThread.AssertNoneLeftRunning(Deadlines.Hang, report: passedSoFar);
        string died = UnhandledExceptions.Describe(UnhandledExceptions.TakeAll());
        if (died.Length > 0)
        {
            Assert.Fail(died);
        }
    }
}
