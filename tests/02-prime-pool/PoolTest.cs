using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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

    /// <summary>The deadline of a wait for a lot of work (hundreds of round trips, megabytes through a pipe): never
    /// shorter than 10 s, even when KATA_DEADLINE_SCALE shortens the others. Wrong code that hangs such a wait costs a
    /// little more; correct code on a loaded machine is never failed by it.</summary>
    protected static TimeSpan BigWork => Deadlines.HangAtLeast(TimeSpan.FromSeconds(10));

    /// <summary>The likely cause when one of many requests is never answered in time.</summary>
    protected const string ManyAnswers =
        NoAnswer + " With this many requests, also: are the workers reused? A process started per request costs tens of " +
        "milliseconds each: workers start once and are reused.";

    /// <summary>The likely cause when a worker died and the task in flight on it never failed, while the pool still
    /// lists the dead worker: nothing reacts to the end of its stdout.</summary>
    protected const string CrashUnnoticed =
        "The pool must notice a worker's death within seconds (its stdout ends: ReadLineAsync returns null; or Process.Exited) and " +
        "fail every task in flight on it with WorkerCrashedException.";

    /// <summary>The likely cause when a worker died, the pool took it out of WorkerProcessIds (so it saw the end of
    /// its stdout), and the task in flight on it still never failed.</summary>
    protected const string ExitCodeBeforeExit =
        "The pool saw the worker's stdout end (the worker left WorkerProcessIds) but never failed the task in flight on it. The end " +
        "of stdout comes before the exit: wait for the process to exit (await WaitForExitAsync, bounded: kill a worker that lingers), " +
        "and only then read Process.ExitCode, which throws InvalidOperationException while the process runs. Then fail the request " +
        "in flight with WorkerCrashedException.";

    /// <summary>Exceptions of tasks that nobody observed, as TaskScheduler.UnobservedTaskException reports them when
    /// the garbage collector finalizes such a task.</summary>
    private static readonly ConcurrentQueue<Exception> s_unobserved = new();

    private readonly List<PrimePool> _pools = [];

    static PoolTest() =>
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            s_unobserved.Enqueue(e.Exception.InnerException ?? e.Exception);
            e.SetObserved();
        };

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

    /// <summary>Disposes <paramref name="pool"/> on a learner thread, with a deadline, and requires every worker it had
    /// to be gone when Dispose returns.</summary>
    protected static void DisposeWithDeadline(PrimePool pool, string diagnosisIfStuck =
        "Dispose must end every worker promptly: close its stdin, wait briefly, kill what is left (Process.Kill(entireProcessTree: " +
        "true)), and wait for the exit. A worker busy with a long check never reads the end of its input in time.")
    {
        ArgumentNullException.ThrowIfNull(pool);
        IReadOnlyList<int> ids = WorkerIds(pool);
        LearnerThread.Start("disposer", pool.Dispose).ShouldFinish(diagnosisIfStuck);
        ShouldAllBeGone(ids, "Dispose");
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

    /// <summary>Waits for <paramref name="task"/>, in flight on a worker of <paramref name="pool"/> that died, to fail
    /// with <see cref="WorkerCrashedException"/>. If it never fails, the diagnosis tells a pool that never noticed the
    /// death (a dead process is still listed among its workers) from one that noticed it and then failed to report it
    /// (and names any task exception that nobody observed meanwhile).</summary>
    protected static WorkerCrashedException ShouldFailWithCrash(Task task, PrimePool pool, string rule, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(pool);
        bool completed;
        try
        {
            completed = task.Wait(deadline ?? Deadlines.Hang);
        }
        catch (AggregateException)
        {
            completed = true;
        }

        if (!completed)
        {
            bool deadListed = pool.WorkerProcessIds.Any(id => !ChildProcesses.IsRunning(id));
            string unobserved = DescribeUnobserved(TakeUnobservedTaskExceptions());
            Assert.Fail(
                $"A worker died, and the task in flight on it has not failed after {Deadlines.Describe(deadline ?? Deadlines.Hang)}. " +
                (deadListed ? CrashUnnoticed : ExitCodeBeforeExit) + unobserved);
        }

        return task.ShouldFail<WorkerCrashedException>(CrashUnnoticed, rule);
    }

    /// <summary>Forgets the task exceptions nobody observed so far (after a collection that finalizes the dead tasks),
    /// so that a test answers only for its own.</summary>
    protected static void ForgetUnobservedTaskExceptions() => TakeUnobservedTaskExceptions();

    /// <summary>Collects garbage, so that every unreachable faulted task is finalized and reported, and returns the
    /// exceptions of those nobody observed.</summary>
    protected static IReadOnlyList<Exception> TakeUnobservedTaskExceptions()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        var taken = new List<Exception>();
        while (s_unobserved.TryDequeue(out Exception? exception))
        {
            taken.Add(exception);
        }

        return taken;
    }

    /// <summary>Says what a list of unobserved task exceptions means, for a failure message; empty when there is none.</summary>
    protected static string DescribeUnobserved(IReadOnlyList<Exception> unobserved)
    {
        ArgumentNullException.ThrowIfNull(unobserved);
        return unobserved.Count == 0
            ? ""
            : $" Meanwhile a task nobody observed failed with {unobserved[0].GetType().Name} (\"{unobserved[0].Message}\")" +
              (unobserved.Count > 1 ? $", and {unobserved.Count - 1} more" : "") + ".";
    }

    /// <summary>Creates weak references to what <paramref name="create"/> returns, in a frame of its own, so that the
    /// test's own locals never keep the objects alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    protected static WeakReference[] WeaklyHeld(Func<IEnumerable<object>> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        return create().Select(o => new WeakReference(o)).ToArray();
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

            IReadOnlyList<int> ids = [];
            try
            {
                ids = pool.WorkerProcessIds;
            }
            catch (Exception ex) when (ex is NotImplementedException or ObjectDisposedException)
            {
                // Nothing to check.
            }

            var disposer = LearnerThread.Start("tear-down disposer", pool.Dispose);
            if (!disposer.TryJoin(Deadlines.Hang) && passedSoFar)
            {
                Assert.Fail($"Dispose has not returned after {Deadlines.Describe(Deadlines.Hang)} at tear-down. Dispose must end every worker promptly.");
            }

            if (passedSoFar && disposer.IsFinished && disposer.Exception is null)
            {
                ShouldAllBeGone(ids, "Dispose (at tear-down)");
            }
        }

        _pools.Clear();
    }
}
