namespace ConcurrencyKata.Tests.PrimePoolTests;

/// <summary>
/// Base class of the pool tests (Steps 3 and 4). Every pool a test creates with <see cref="NewPool"/> is disposed at
/// tear-down, on a learner thread with a deadline, and every worker process id the test sees is recorded; then
/// <see cref="ChildProcessTest"/> requires that all of them have exited (no orphan process after any test).
/// </summary>
public abstract class PoolTest : ChildProcessTest
{
    /// <summary>The likely cause when a request is never answered.</summary>
    protected const string NoAnswer =
        "The request was never answered. Does the request reach the worker (write it with a '\\n' and flush each request: " +
        "stdin is a pipe with a buffer in front of it)? Is the worker's stdout read all the time, asynchronously, and each reply " +
        "matched to its request by id? Did the worker start (see its stderr) and implement Step 2?";

    private readonly List<PrimePool> _pools = [];

    /// <summary>Creates a pool that the tear-down disposes.</summary>
    protected PrimePool NewPool(int maxWorkers)
    {
        var pool = new PrimePool(maxWorkers);
        _pools.Add(pool);
        return pool;
    }

    /// <summary>The pool's worker process ids right now, each recorded for the orphan check.</summary>
    protected static IReadOnlyList<int> WorkerIds(PrimePool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        IReadOnlyList<int> ids = pool.WorkerProcessIds;
        ChildProcesses.TrackAll(ids, "worker");
        return ids;
    }

    /// <summary>Waits until the pool reports <paramref name="count"/> workers (it may start them asynchronously),
    /// or fails; returns their ids.</summary>
    protected static IReadOnlyList<int> WaitForWorkers(PrimePool pool, int count, string diagnosis)
    {
        IReadOnlyList<int> ids = [];
        Poll.Until(() => (ids = WorkerIds(pool)).Count >= count, $"the pool never reported {count} worker process(es). {diagnosis}");
        return ids;
    }

    /// <summary>Disposes <paramref name="pool"/> on a learner thread, with a deadline.</summary>
    protected static void DisposeWithDeadline(PrimePool pool, string diagnosisIfStuck =
        "Dispose must end every worker promptly: close its stdin, wait briefly, kill what is left (Process.Kill(entireProcessTree: " +
        "true)), and wait for the exit. A worker busy with a long check never reads the end of its input in time.")
    {
        ArgumentNullException.ThrowIfNull(pool);
        WorkerIds(pool);
        LearnerThread.Start("disposer", pool.Dispose).ShouldFinish(diagnosisIfStuck);
    }

    /// <summary>Requires every process in <paramref name="ids"/> to be gone right after Dispose returned.</summary>
    protected static void ShouldAllBeGone(IEnumerable<int> ids, string when)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (int id in ids)
        {
            ChildProcesses.IsRunning(id).ShouldBeFalse(
                $"Worker process {id} is still running after {when} returned. Dispose must not return before every worker has exited: " +
                "close its stdin, wait briefly, kill what is left, then wait for the exit (Process.WaitForExit).");
        }
    }

    /// <summary>Disposes every pool the test created (a learner's Dispose that hangs is reported, not waited for).</summary>
    [TearDown]
    public void DisposeThePools()
    {
        bool passedSoFar = TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Passed;
        foreach (PrimePool pool in _pools)
        {
            try
            {
                WorkerIds(pool);
            }
            catch (Exception ex) when (ex is NotImplementedException or ObjectDisposedException)
            {
                // Nothing to record.
            }

            var disposer = LearnerThread.Start("tear-down disposer", pool.Dispose);
            if (!disposer.TryJoin(Deadlines.Hang) && passedSoFar)
            {
                Assert.Fail($"Dispose has not returned after {Deadlines.Describe(Deadlines.Hang)} at tear-down. Dispose must end every worker promptly.");
            }
        }

        _pools.Clear();
    }
}
