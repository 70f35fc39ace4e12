using System.Diagnostics;

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
    /// <summary>The queue the workers drain. Thread-safe on its own.</summary>
    private readonly WorkQueue<T> _queue;

    /// <summary>What each worker does with an item. Called on worker threads, several at once.</summary>
    private readonly Action<T> _handler;

    /// <summary>The worker threads; the array never changes after the constructor.</summary>
    private readonly Thread[] _workers;

    /// <summary>The lock protecting <see cref="_errors"/>, which all workers append to.</summary>
    private readonly object _errorsLock = new();

    /// <summary>Exceptions thrown by the handler, in the order they were caught. Guarded by <see cref="_errorsLock"/>.</summary>
    private readonly List<Exception> _errors = [];

    /// <summary>Starts <paramref name="workerCount"/> threads that take items from <paramref name="queue"/> and
    /// pass each one to <paramref name="handler"/>.</summary>
    /// <param name="queue">The queue to drain.</param>
    /// <param name="workerCount">How many worker threads to start; at least 1.</param>
    /// <param name="handler">Processes one item. Runs on the worker threads, so it must be thread-safe.</param>
    /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workerCount"/> is less than 1.</exception>
    public WorkerPool(WorkQueue<T> queue, int workerCount, Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);

        _queue = queue;
        _handler = handler;
        _workers = new Thread[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            // Dedicated threads, not thread-pool tasks: a worker blocks in Take for as long as the queue is
            // empty, and blocking pool threads starves everything else that needs the pool.
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"WorkerPool worker {i + 1}" };
        }

        // Start only once every thread exists, so a failure to create one leaves no worker running.
        foreach (Thread worker in _workers)
        {
            worker.Start();
        }
    }

    /// <summary>The number of worker threads.</summary>
    public int WorkerCount => _workers.Length;

    /// <summary>Completes the queue, waits until the workers have drained it and exited, and reports every
    /// exception the handler threw.</summary>
    /// <remarks>Blocks until the last worker has finished its last item. Calling it again waits for nothing new
    /// and reports the same exceptions.</remarks>
    /// <exception cref="AggregateException">The handler threw for one or more items; the inner exceptions are
    /// those exceptions, in the order they were caught.</exception>
    public void Shutdown()
    {
        _queue.Complete();
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        lock (_errorsLock)
        {
            if (_errors.Count > 0)
            {
                throw new AggregateException("The handler threw for one or more work items.", _errors);
            }
        }
    }

    /// <summary>Completes the queue and waits for the workers, like <see cref="Shutdown"/>, without throwing
    /// the handler's exceptions.</summary>
    public void Dispose()
    {
        try
        {
            Shutdown();
        }
        catch (AggregateException)
        {
            // Dispose must not throw; Shutdown is the way to observe the handler's failures.
        }
    }

    /// <summary>One worker's loop: runs until the queue is complete and empty.</summary>
    private void Work()
    {
        foreach (T item in _queue.GetConsumingEnumerable())
        {
            try
            {
                _handler(item);
            }
            catch (Exception ex)
            {
                lock (_errorsLock)
                {
                    _errors.Add(ex);
                }
            }
            finally
            {
                // In finally: a failed item is still finished, or Join would wait for it forever.
                _queue.TaskDone();
            }
        }

        Debug.Assert(_queue.IsCompleted, "A worker only stops once the queue is complete and empty.");
    }
}
