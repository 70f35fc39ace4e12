namespace ConcurrencyKata;

/// <summary>
/// A <see cref="KataLock"/> with a declared rank, checked on every acquisition: a thread may only take locks of
/// increasing rank. Asking for a lock whose rank is not above every lock the thread already holds throws a
/// <see cref="LockOrderViolationException"/> naming both locks, before waiting, whether or not any other thread is
/// around. That is how the Linux kernel's lockdep finds a deadlock before it happens: a wrong order is reported on
/// the first run that takes it, not on the unlucky run where two threads meet.
/// </summary>
/// <remarks>
/// <para>Each thread has its own set of held locks: what one thread holds never restricts another. Locks may be
/// released in any order.</para>
/// <para>The <see cref="Bank"/> uses one per account, wrapping the account's own <see cref="Account.Lock"/>, ranked
/// in the bank's global lock order.</para>
/// </remarks>
public sealed class OrderedLock
{
    // TODO (Step 4): the wrapped KataLock and the rank.
    // TODO (Step 4): the ordered locks the current thread holds: one collection per thread ([ThreadStatic] static field,
    // or a ThreadLocal<T>), so that what one thread holds never restricts another. Document it.

    /// <summary>Wraps <paramref name="kataLock"/> and declares its <paramref name="rank"/>.</summary>
    /// <param name="kataLock">The lock to take and release; the same <see cref="KataLock"/> may be taken directly
    /// elsewhere (the hierarchy then does not see that).</param>
    /// <param name="rank">Its place in the declared order: a thread holding this lock may only take locks of a
    /// higher rank. Two different locks a thread may hold together need different ranks.</param>
    /// <exception cref="ArgumentNullException"><paramref name="kataLock"/> is null.</exception>
    public OrderedLock(KataLock kataLock, long rank)
    {
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 04): implement the OrderedLock constructor. See Step 4 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>The lock this one takes and releases.</summary>
    public KataLock Lock =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.Lock. See Step 4 in exercises/04-deadlock-free-locking/README.md.");

    /// <summary>The declared rank.</summary>
    public long Rank =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.Rank. See Step 4 in exercises/04-deadlock-free-locking/README.md.");

    /// <summary>The name of <see cref="Lock"/>.</summary>
    public string Name =>
        // TODO (Step 4)
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.Name. See Step 4 in exercises/04-deadlock-free-locking/README.md.");

    /// <summary>Takes the lock, after checking the order; waits as long as it takes while another thread holds it.</summary>
    /// <exception cref="LockOrderViolationException">The calling thread holds an ordered lock whose rank is not below
    /// <see cref="Rank"/>. Thrown before waiting; nothing is taken.</exception>
    /// <exception cref="LockRecursionException">The calling thread already holds <see cref="Lock"/>.</exception>
    public void Enter()
    {
        // TODO (Step 4): check the order against every lock this thread holds (first!), take the lock, remember it
        // (only once Lock.Enter() has returned: it can throw, and a lock the thread never got must leave no record).
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.Enter. See Step 4 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>Takes the lock if it becomes free within <paramref name="timeout"/>, after checking the order.</summary>
    /// <param name="timeout">How long to wait: <see cref="TimeSpan.Zero"/> does not wait at all,
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <returns><see langword="true"/> if the calling thread now holds the lock; <see langword="false"/> if it timed
    /// out, holding nothing more than before.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="LockOrderViolationException">The calling thread holds an ordered lock whose rank is not below
    /// <see cref="Rank"/>. Thrown before waiting; nothing is taken.</exception>
    /// <exception cref="LockRecursionException">The calling thread already holds <see cref="Lock"/>.</exception>
    public bool TryEnter(TimeSpan timeout)
    {
        // TODO (Step 4): like Enter; remember the lock only if TryEnter returned true.
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.TryEnter. See Step 4 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>Releases the lock. Locks may be released in any order.</summary>
    /// <exception cref="SynchronizationLockException">The calling thread does not hold this lock through the
    /// hierarchy.</exception>
    public void Exit()
    {
        // TODO (Step 4): release the lock and forget it (this one, wherever it is among the held locks). If this thread
        // does not hold it through the hierarchy, throw SynchronizationLockException and release nothing.
        throw new NotImplementedException("Step 4 (exercise 04): implement OrderedLock.Exit. See Step 4 in exercises/04-deadlock-free-locking/README.md.");
    }
}
