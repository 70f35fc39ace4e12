using System.Diagnostics;
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
/// </remarks>
public sealed class WorkQueue<T>
{
    /// <summary>
    /// The lock protecting <see cref="_items"/>, <see cref="_unfinishedTasks"/> and <see cref="_addingCompleted"/>,
    /// and the monitor every blocked caller waits on. It is private so that no outside code can take it, hold it,
    /// or pulse it: only this class decides who waits and who is woken.
    /// </summary>
    /// <remarks>
    /// One monitor serves three kinds of waiters (takers waiting for an item, putters waiting for room, joiners
    /// waiting for the last <see cref="TaskDone"/>). That is why every state change calls
    /// <see cref="Monitor.PulseAll"/>: a single <see cref="Monitor.Pulse"/> could wake a waiter of the wrong kind,
    /// which goes back to sleep, and the right one is never woken (a lost wake-up).
    /// </remarks>
    private readonly object _sync = new();

    /// <summary>The items, oldest first. Guarded by <see cref="_sync"/>.</summary>
    private readonly Queue<T> _items = new();

    /// <summary>The most items the queue holds at once, or <see cref="int.MaxValue"/> when unbounded. Immutable.</summary>
    private readonly int _capacity;

    /// <summary>Items put but not yet reported done with <see cref="TaskDone"/>. Guarded by <see cref="_sync"/>.</summary>
    private int _unfinishedTasks;

    /// <summary>Set once by <see cref="Complete"/>; never cleared. Guarded by <see cref="_sync"/>.</summary>
    private bool _addingCompleted;

    /// <summary>Creates an unbounded queue: <see cref="Put"/> never waits for room.</summary>
    public WorkQueue()
    {
        _capacity = int.MaxValue;
    }

    /// <summary>Creates a bounded queue that holds at most <paramref name="capacity"/> items.</summary>
    /// <param name="capacity">The most items the queue holds at once; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public WorkQueue(int capacity)
    {
        // Python's Queue(maxsize=0) means "unbounded"; here that is the parameterless constructor, and a
        // non-positive capacity is a mistake worth reporting rather than a silent switch to unbounded.
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>The most items the queue holds at once, or <see langword="null"/> when it is unbounded.</summary>
    public int? Capacity => _capacity == int.MaxValue ? null : _capacity;

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
    public int UnfinishedTasks
    {
        get
        {
            lock (_sync)
            {
                return _unfinishedTasks;
            }
        }
    }

    /// <summary>Whether <see cref="Complete"/> has been called: no more items can be put.</summary>
    public bool IsAddingCompleted
    {
        get
        {
            lock (_sync)
            {
                return _addingCompleted;
            }
        }
    }

    /// <summary>Whether <see cref="Complete"/> has been called and every item has been taken.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_sync)
            {
                return _addingCompleted && _items.Count == 0;
            }
        }
    }

    /// <summary>Adds <paramref name="item"/> at the tail, waiting while the queue is full.</summary>
    /// <param name="item">The item to add.</param>
    /// <param name="cancellationToken">Ends the wait for room; the item is then not added.</param>
    /// <remarks>Blocks while the queue holds <see cref="Capacity"/> items. Adds one unfinished task.</remarks>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called, before or during the wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public void Put(T item, CancellationToken cancellationToken = default)
    {
        bool added = TryPutCore(item, Timeout.Infinite, cancellationToken);
        Debug.Assert(added, "An infinite wait only ends with room, completion or cancellation.");
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
    public bool TryPut(T item, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryPutCore(item, ToMilliseconds(timeout), cancellationToken);

    /// <summary>Removes and returns the item at the head, waiting while the queue is empty.</summary>
    /// <param name="cancellationToken">Ends the wait for an item; nothing is then removed.</param>
    /// <returns>The oldest item.</returns>
    /// <remarks>Blocks while the queue is empty and not complete.</remarks>
    /// <exception cref="InvalidOperationException">The queue is complete and empty: no item will ever come.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public T Take(CancellationToken cancellationToken = default)
    {
        if (!TryTakeCore(out T? item, Timeout.Infinite, cancellationToken))
        {
            throw new InvalidOperationException("The queue is complete and empty: no item will ever be put again.");
        }

        return item;
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
    public bool TryTake([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryTakeCore(out item, ToMilliseconds(timeout), cancellationToken);

    /// <summary>Reports that one item taken from the queue has been fully processed.</summary>
    /// <remarks>Call it once per item, after processing, even when processing failed (in a <c>finally</c>):
    /// otherwise <see cref="Join(CancellationToken)"/> waits forever. The last one wakes every thread blocked in <see cref="Join(CancellationToken)"/>.</remarks>
    /// <exception cref="InvalidOperationException">Called more times than items were put; nothing changes.</exception>
    public void TaskDone()
    {
        lock (_sync)
        {
            if (_unfinishedTasks == 0)
            {
                throw new InvalidOperationException(
                    "TaskDone was called more times than items were put: there is no unfinished task to finish.");
            }

            _unfinishedTasks--;
            if (_unfinishedTasks == 0)
            {
                // Every joiner must wake, not just one: Pulse would leave the others waiting forever.
                Monitor.PulseAll(_sync);
            }

            AssertInvariants();
        }
    }

    /// <summary>Waits until every item put so far has been reported done with <see cref="TaskDone"/>.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <remarks>Blocks while <see cref="UnfinishedTasks"/> is above zero. Any number of threads can join at once;
    /// they all wake together.</remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call or
    /// while it waited: the exception carries that token, and the queue is left exactly as it was.</exception>
    public void Join(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using CancellationTokenRegistration wakeOnCancel = WakeWaitersOnCancel(cancellationToken);
        lock (_sync)
        {
            WaitUntil(static q => q._unfinishedTasks == 0, Timeout.Infinite, cancellationToken);
        }
    }

    /// <summary>Marks the queue complete: no more items can be put. Items already in it can still be taken.</summary>
    /// <remarks>Wakes every blocked caller: waiting putters throw, and waiting takers, once the queue is empty,
    /// learn that it is complete. Calling it again does nothing.</remarks>
    public void Complete()
    {
        lock (_sync)
        {
            _addingCompleted = true;
            Monitor.PulseAll(_sync);
            AssertInvariants();
        }
    }

    /// <summary>Takes items until the queue is complete and empty: the worker loop of Python's
    /// <c>while True: item = q.get()</c>, with <see cref="Complete"/> in place of a <c>None</c> sentinel.</summary>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>; the items not
    /// enumerated yet stay in the queue.</param>
    /// <returns>Items in queue order; each one is removed from the queue as it is enumerated.</returns>
    /// <remarks>Blocks between items while the queue is empty and not complete. Call <see cref="TaskDone"/> for each item.</remarks>
    public IEnumerable<T> GetConsumingEnumerable(CancellationToken cancellationToken = default)
    {
        while (TryTakeCore(out T? item, Timeout.Infinite, cancellationToken))
        {
            yield return item;
        }
    }

    private bool TryPutCore(T item, int millisecondsTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Registered before the lock is taken and disposed after it is released: disposing a registration waits
        // for a callback that is running, and that callback needs _sync to pulse. Inside the lock, they would
        // wait for each other forever.
        using CancellationTokenRegistration wakeOnCancel = WakeWaitersOnCancel(cancellationToken);
        lock (_sync)
        {
            ThrowIfAddingCompleted();
            if (!WaitUntil(static q => q._addingCompleted || q._items.Count < q._capacity, millisecondsTimeout, cancellationToken))
            {
                return false;
            }

            // Completion may have arrived while this thread slept.
            ThrowIfAddingCompleted();

            _items.Enqueue(item);
            _unfinishedTasks++;

            // Wake takers. PulseAll, because putters and joiners may be waiting on the same monitor.
            Monitor.PulseAll(_sync);
            AssertInvariants();
            return true;
        }
    }

    private bool TryTakeCore([MaybeNullWhen(false)] out T item, int millisecondsTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using CancellationTokenRegistration wakeOnCancel = WakeWaitersOnCancel(cancellationToken);
        lock (_sync)
        {
            if (!WaitUntil(static q => q._items.Count > 0 || q._addingCompleted, millisecondsTimeout, cancellationToken)
                || _items.Count == 0)
            {
                // Timed out, or complete and empty.
                item = default;
                return false;
            }

            // The check ("is there an item?") and the act (Dequeue) happen under one hold of the lock, so no other
            // taker can slip in between them.
            item = _items.Dequeue();

            // Wake putters waiting for room (and anyone else: they all re-check their own condition).
            Monitor.PulseAll(_sync);
            AssertInvariants();
            return true;
        }
    }

    /// <summary>Waits on <see cref="_sync"/> until <paramref name="isReady"/> holds, the timeout runs out, or the
    /// token is cancelled. The caller holds the lock; <see cref="Monitor.Wait(object, int)"/> releases it while
    /// sleeping and takes it back before returning.</summary>
    /// <returns><see langword="true"/> if the condition holds; <see langword="false"/> on timeout.</returns>
    private bool WaitUntil(Func<WorkQueue<T>, bool> isReady, int millisecondsTimeout, CancellationToken cancellationToken)
    {
        Debug.Assert(Monitor.IsEntered(_sync), "Only a thread that holds _sync may wait on it.");

        // Stopwatch, not Environment.TickCount64: the tick count advances in steps of up to ~16 ms on some systems,
        // so a timeout of 1 or 2 ms could be found "already over" before the first wait and never wait at all.
        long started = Stopwatch.GetTimestamp();

        // A while, never an if: a woken thread must check again. PulseAll wakes every waiter, another taker may
        // have taken the item first, and a wake-up may have been meant for a different kind of waiter.
        while (!isReady(this))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int remaining = millisecondsTimeout;
            if (millisecondsTimeout != Timeout.Infinite)
            {
                // Each wait gets what is left of the timeout, not the whole timeout again: wake-ups that find
                // nothing must not stretch the caller's deadline. Elapsed whole milliseconds, rounded down: the first
                // wait gets the whole timeout.
                long elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                remaining = (int)Math.Max(0, millisecondsTimeout - elapsed);
                if (remaining == 0)
                {
                    return false;
                }
            }

            Monitor.Wait(_sync, remaining);
        }

        return true;
    }

    /// <summary>Makes a cancelled token wake every waiter, so that the cancelled one can see its token and leave.</summary>
    private CancellationTokenRegistration WakeWaitersOnCancel(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(
                static state =>
                {
                    var queue = (WorkQueue<T>)state!;

                    // Pulsing needs the lock: Monitor.PulseAll outside it throws SynchronizationLockException.
                    lock (queue._sync)
                    {
                        Monitor.PulseAll(queue._sync);
                    }
                },
                this)
            : default;

    private void ThrowIfAddingCompleted()
    {
        if (_addingCompleted)
        {
            throw new InvalidOperationException("The queue is complete: Complete() was called, so no more items can be put.");
        }
    }

    private static int ToMilliseconds(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.Infinite;
        }

        if (timeout < TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "The timeout must be between TimeSpan.Zero and int.MaxValue milliseconds, or Timeout.InfiniteTimeSpan to wait without limit.");
        }

        // Round up: a timeout of 0.5 ms still waits, it does not turn into "don't wait at all".
        return (int)Math.Ceiling(timeout.TotalMilliseconds);
    }

    /// <summary>Checks, in debug builds, what must hold whenever <see cref="_sync"/> is released.</summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_sync), "Invariants are only meaningful under the lock.");
        Debug.Assert(_items.Count <= _capacity, "A bounded queue never holds more than its capacity.");
        Debug.Assert(_unfinishedTasks >= 0, "TaskDone never finishes more tasks than were put.");
    }
}
