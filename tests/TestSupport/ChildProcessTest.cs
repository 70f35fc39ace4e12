namespace ConcurrencyKata.TestSupport;

/// <summary>
/// Base class for fixtures whose tests start OS processes, directly (<see cref="TrackedProcess"/>) or through
/// learner code (a pool of worker processes). Besides what <see cref="ConcurrencyTest"/> checks, its tear-down
/// requires that every process the test started has exited (docs/testing.md, rule 14): leftovers are killed,
/// and a test that passed so far fails with "Orphan process: ...". A derived fixture's own [TearDown] (disposing
/// the pools it created, say) runs before this check.
/// </summary>
public abstract class ChildProcessTest : ConcurrencyTest
{
    /// <summary>How long a process that is on its way out may take to exit at tear-down.</summary>
    protected static TimeSpan ExitGrace => Deadlines.Scaled(TimeSpan.FromSeconds(3));

    /// <summary>Kills every process the test leaked, and fails a passing test that leaked one.</summary>
    [TearDown]
    public void NoChildProcessOutlivesItsTest()
    {
        bool passedSoFar = TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed;
        TrackedProcess.DisposeAllOfCurrentTest();
        ChildProcesses.AssertNoneLeftRunning(ExitGrace, report: passedSoFar);
    }
}
