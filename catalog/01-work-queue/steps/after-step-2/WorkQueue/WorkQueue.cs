using System.Diagnostics.CodeAnalysis;

namespace ConcurrencyKata;

/// <summary>
/// A first-in, first-out queue that many threads can share safely: the .NET counterpart of Python's
/// <c>queue.Queue</c>. Producers <see cref="Put"/> items, consumers <see cref="Take"/> them, and a queue with a
/// capacity makes fast producers wait for slow consumers (back-pressure).
/// </summary>
/// <typeparam name="T">The type of the items. <see langword="null"/> is an ordinary item.</typeparam>
/// <remarks>
/// <para>Every member is thread-safe. <see cref="Put"/>, <see cref="Take"/>, <see cref="Join(CancellationToken)"/> and their timed
/// <c>Try</c> forms block the calling thread; each accepts a <see cref="CancellationToken"/> that ends the wait
/// with <see cref="OperationCanceledException"/> and leaves the queue exactly as it was.</para>
/// <para>Task tracking works as in Python: every <see cref="Put"/> adds an unfinished task, every
/// <see cref="TaskDone"/> finishes one, and <see cref="Join(CancellationToken)"/> waits until none is left.</para>
/// <para>Shutdown: after <see cref="Complete"/> no more items can be put; consumers drain what is left and then
/// learn that the queue is complete (<see cref="Take"/> throws, <see cref="TryTake"/> returns
/// <see langword="false"/>, <see cref="GetConsumingEnumerable"/> ends).</para>
/// <para>Build it with <c>lock</c> on a private object plus <see cref="Monitor.Wait(object)"/> and
/// <see cref="Monitor.PulseAll"/>. BlockingCollection, ConcurrentQueue and Channel are off limits here (the build
/// says so): this exercise is about writing what they do.</para>
/// </remarks>
public sealed class WorkQueue<T>
{
    // Step 1: the state.
    private readonly Queue<T> _items = new();
    private readonly int? _capacity;

    /// <summary>The lock protecting _items. Every read and write of the state happens inside lock (_sync).</summary>
    private readonly object _sync = new();

    // TODO (Step 4): the count of unfinished tasks, and whether Complete() was called.

    /// <summary>Creates an unbounded queue: <see cref="Put"/> never waits for room.</summary>
    public WorkQueue()
    {
        _capacity = null;
    }

    /// <summary>Creates a bounded queue that holds at most <paramref name="capacity"/> items.</summary>
    /// <param name="capacity">The most items the queue holds at once; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public WorkQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>The most items the queue holds at once, or <see langword="null"/> when it is unbounded.</summary>
    public int? Capacity => _capacity;

    /// <summary>The number of items in the queue right now. Another thread may change it the moment it is read.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>The number of items put whose <see cref="TaskDone"/> has not been called yet.</summary>
    public int UnfinishedTasks =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement UnfinishedTasks. See Step 4 in exercises/01-work-queue/README.md.");

    /// <summary>Whether <see cref="Complete"/> has been called: no more items can be put.</summary>
    public bool IsAddingCompleted =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement IsAddingCompleted. See Step 4 in exercises/01-work-queue/README.md.");

    /// <summary>Whether <see cref="Complete"/> has been called and every item has been taken.</summary>
    public bool IsCompleted =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement IsCompleted. See Step 4 in exercises/01-work-queue/README.md.");

    /// <summary>Adds <paramref name="item"/> at the tail, waiting while the queue is full.</summary>
    /// <param name="item">The item to add.</param>
    /// <param name="cancellationToken">Ends the wait for room; the item is then not added.</param>
    /// <remarks>Blocks while the queue holds <see cref="Capacity"/> items. Adds one unfinished task.</remarks>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called, before or during the wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public void Put(T item, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3): wait while full, honouring cancellationToken; then wake waiting takers (PulseAll).
        // TODO (Step 4): count the task; refuse after Complete().
        lock (_sync)
        {
            _items.Enqueue(item);
        }
    }

    /// <summary>Adds <paramref name="item"/> at the tail, waiting at most <paramref name="timeout"/> for room.</summary>
    /// <param name="item">The item to add.</param>
    /// <param name="timeout">How long to wait for room: <see cref="TimeSpan.Zero"/> does not wait at all,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait for room; the item is then not added.</param>
    /// <returns><see langword="true"/> if the item was added; <see langword="false"/> if the queue was still full
    /// when the timeout ran out. A cancellation is never reported as <see langword="false"/>: it throws.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called, before or during the wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public bool TryPut(T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 01): implement TryPut. See Step 3 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Removes and returns the item at the head, waiting while the queue is empty.</summary>
    /// <param name="cancellationToken">Ends the wait for an item; nothing is then removed.</param>
    /// <returns>The oldest item.</returns>
    /// <remarks>Blocks while the queue is empty and not complete.</remarks>
    /// <exception cref="InvalidOperationException">The queue is complete and empty: no item will ever come.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public T Take(CancellationToken cancellationToken = default)
    {
        // TODO (Step 3): wait while empty, in a while loop.
        // TODO (Step 4): once complete and empty, throw instead of waiting.
        lock (_sync)
        {
            return _items.Dequeue();
        }
    }

    /// <summary>Removes the item at the head, waiting at most <paramref name="timeout"/> for one.</summary>
    /// <param name="item">The oldest item, when the method returns <see langword="true"/>.</param>
    /// <param name="timeout">How long to wait for an item: <see cref="TimeSpan.Zero"/> does not wait at all,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait for an item; nothing is then removed.</param>
    /// <returns><see langword="true"/> if an item was taken; <see langword="false"/> if none came before the
    /// timeout, or the queue is complete and empty (see <see cref="IsCompleted"/>). A cancellation is never reported
    /// as <see langword="false"/>: it throws.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public bool TryTake([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        // TODO (Step 3)
        throw new NotImplementedException("Step 3 (exercise 01): implement TryTake. See Step 3 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Reports that one item taken from the queue has been fully processed.</summary>
    /// <remarks>Call it once per item, after processing, even when processing failed (in a <c>finally</c>):
    /// otherwise <see cref="Join(CancellationToken)"/> waits forever. The last one wakes every thread blocked in <see cref="Join(CancellationToken)"/>.</remarks>
    /// <exception cref="InvalidOperationException">Called more times than items were put; nothing changes.</exception>
    public void TaskDone()
    {
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement TaskDone. See Step 4 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Waits until every item put so far has been reported done with <see cref="TaskDone"/>.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <remarks>Blocks while <see cref="UnfinishedTasks"/> is above zero. Any number of threads can join at once;
    /// they all wake together.</remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public void Join(CancellationToken cancellationToken = default)
    {
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement Join. See Step 4 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Marks the queue complete: no more items can be put. Items already in it can still be taken.</summary>
    /// <remarks>Wakes every blocked caller: waiting putters throw, and waiting takers, once the queue is empty,
    /// learn that it is complete. Calling it again does nothing.</remarks>
    public void Complete()
    {
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 01): implement Complete. See Step 4 in exercises/01-work-queue/README.md.");
    }

    /// <summary>Takes items until the queue is complete and empty: the worker loop of Python's
    /// <c>while True: item = q.get()</c>, with <see cref="Complete"/> in place of a <c>None</c> sentinel.</summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>; the items not
    /// enumerated yet stay in the queue.</param>
    /// <returns>Items in queue order; each one is removed from the queue as it is enumerated.</returns>
    /// <remarks>Blocks between items while the queue is empty and not complete. Call <see cref="TaskDone"/> for each item.</remarks>
    public IEnumerable<T> GetConsumingEnumerable(CancellationToken cancellationToken = default)
    {
        // TODO (Step 4): an iterator (yield return) over TryTake with an infinite timeout.
        throw new NotImplementedException("Step 4 (exercise 01): implement GetConsumingEnumerable. See Step 4 in exercises/01-work-queue/README.md.");
    }
}
