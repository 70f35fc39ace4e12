namespace ConcurrencyKata;

/// <summary>
/// A fixed set of worker threads that drain a <see cref="WorkQueue{T}"/>: the source article's
/// <c>worker()</c> loop (take an item, process it, <c>task_done()</c>), run by several threads at once.
/// </summary>
/// <typeparam name="T">The type of the work items.</typeparam>
/// <remarks>
/// <para>The workers start in the constructor and run until the queue is complete and empty.
/// <see cref="Shutdown"/> completes the queue and waits for them.</para>
/// <para>An exception thrown by the handler does not end its worker: it is collected, the item still counts as
/// done (so <see cref="WorkQueue{T}.Join(CancellationToken)"/> returns), and <see cref="Shutdown"/> rethrows every collected
/// exception in one <see cref="AggregateException"/>. An exception that escaped a thread would end the process.</para>
/// <para>The workers are background threads: a pool that is never shut down does not keep the process alive.</para>
/// </remarks>
public sealed class WorkerPool<T> : IDisposable
{
    // TODO (Step 4): the queue, the handler, the worker threads, and the exceptions the handler threw
    // (with the lock that guards that list: several workers add to it at once).

    /// <summary>Starts <paramref name="workerCount"/> threads that take items from <paramref name="queue"/> and
    /// pass each one to <paramref name="handler"/>.</summary>
    /// <param name="queue">The queue to drain.</param>
    /// <param name="workerCount">How many worker threads to start; at least 1.</param>
    /// <param name="handler">Processes one item. Runs on the worker threads, so it must be thread-safe.</param>
    /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workerCount"/> is less than 1.</exception>
    public WorkerPool(WorkQueue<T> queue, int workerCount, Action<T> handler)
    {
        // TODO (Step 4): validate, then start workerCount background threads, each running a worker loop:
        //   foreach item in queue.GetConsumingEnumerable(): try { handler(item) } catch { remember it } finally { TaskDone }
        throw new NotImplementedException("Step 4 (exercise 01): implement the WorkerPool<T> constructor. See Step 4 in exercises/01-work-queue/README.md.");
    }

    /// <summary>The number of worker threads.</summary>
    public int WorkerCount =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement WorkerCount. See Step 4 in exercises/01-work-queue/README.md.");

    /// <summary>Completes the queue, waits until the workers have drained it and exited, and reports every
    /// exception the handler threw.</summary>
    /// <remarks>Blocks until the last worker has finished its last item. Calling it again waits for nothing new
    /// and reports the same exceptions.</remarks>
    /// <exception cref="AggregateException">The handler threw for one or more items; the inner exceptions are
    /// those exceptions, in the order they were caught.</exception>
    public void Shutdown()
    {
        // TODO (Step 4): complete the queue, join every worker, then throw an AggregateException if the handler failed.
        throw new NotImplementedException("Step 4 (exercise 01): implement Shutdown. See Step 4 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Completes the queue and waits for the workers, like <see cref="Shutdown"/>, without throwing
    /// the handler's exceptions.</summary>
    public void Dispose()
    {
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement Dispose. See Step 4 in exercises/01-work-queue/README.md.");
    }
}
