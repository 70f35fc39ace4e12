using System.Diagnostics;

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
    /// <summary>
    /// The ordered locks the current thread holds, in the order it took them. One list per thread
    /// (<see cref="ThreadStaticAttribute"/>): the rule is about what <em>this</em> thread holds, so no other thread
    /// ever reads or writes it, and it needs no lock. Created on first use by each thread.
    /// </summary>
    [ThreadStatic]
    private static List<OrderedLock>? s_heldByThisThread;

    /// <summary>Wraps <paramref name="kataLock"/> and declares its <paramref name="rank"/>.</summary>
    /// <param name="kataLock">The lock to take and release; the same <see cref="KataLock"/> may be taken directly
    /// elsewhere (the hierarchy then does not see that).</param>
    /// <param name="rank">Its place in the declared order: a thread holding this lock may only take locks of a
    /// higher rank. Two different locks a thread may hold together need different ranks.</param>
    /// <exception cref="ArgumentNullException"><paramref name="kataLock"/> is null.</exception>
    public OrderedLock(KataLock kataLock, long rank)
    {
        ArgumentNullException.ThrowIfNull(kataLock);
        Lock = kataLock;
        Rank = rank;
    }

    /// <summary>The lock this one takes and releases.</summary>
    public KataLock Lock { get; }

    /// <summary>The declared rank.</summary>
    public long Rank { get; }

    /// <summary>The name of <see cref="Lock"/>.</summary>
    public string Name => Lock.Name;

    private static List<OrderedLock> HeldByThisThread => s_heldByThisThread ??= [];

    /// <summary>Takes the lock, after checking the order; waits as long as it takes while another thread holds it.</summary>
    /// <exception cref="LockOrderViolationException">The calling thread holds an ordered lock whose rank is not below
    /// <see cref="Rank"/>. Thrown before waiting; nothing is taken.</exception>
    /// <exception cref="LockRecursionException">The calling thread already holds <see cref="Lock"/>.</exception>
    public void Enter()
    {
        // The check comes first: refusing only after waiting for the lock would turn the report into the very
        // deadlock it is meant to prevent.
        ThrowIfOutOfOrder();
        Lock.Enter();
        HeldByThisThread.Add(this);
        AssertInvariants();
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
        ThrowIfOutOfOrder();
        if (!Lock.TryEnter(timeout))
        {
            // Not taken, so not recorded: the held set describes exactly what this thread holds.
            return false;
        }

        HeldByThisThread.Add(this);
        AssertInvariants();
        return true;
    }

    /// <summary>Releases the lock. Locks may be released in any order.</summary>
    /// <exception cref="SynchronizationLockException">The calling thread does not hold this lock through the
    /// hierarchy.</exception>
    public void Exit()
    {
        List<OrderedLock> held = HeldByThisThread;
        int index = held.LastIndexOf(this);
        if (index < 0)
        {
            throw new SynchronizationLockException(
                $"Exit on ordered lock '{Name}', which this thread does not hold. Did its TryEnter return false?");
        }

        // Release first, forget second: if Exit threw, the record would still say what the thread holds.
        Lock.Exit();
        held.RemoveAt(index);
        AssertInvariants();
    }

    /// <summary>Throws if the calling thread holds a lock of this rank or above. Compares against every held lock,
    /// not only the last one taken: after releasing the last one, the others still count.</summary>
    private void ThrowIfOutOfOrder()
    {
        OrderedLock? highest = null;
        foreach (OrderedLock held in HeldByThisThread)
        {
            if (highest is null || held.Rank > highest.Rank)
            {
                highest = held;
            }
        }

        if (highest is not null && highest.Rank >= Rank)
        {
            throw new LockOrderViolationException(Name, Rank, highest.Name, highest.Rank);
        }
    }

    /// <summary>Checks, in debug builds, that the held set matches reality: every recorded lock is really held by
    /// this thread, and the ranks increase in the order the locks were taken.</summary>
    [Conditional("DEBUG")]
    private static void AssertInvariants()
    {
        List<OrderedLock> held = HeldByThisThread;
        for (int i = 0; i < held.Count; i++)
        {
            Debug.Assert(held[i].Lock.IsHeldByCurrentThread, "Every lock in the held set is held by this thread.");
            Debug.Assert(i == 0 || held[i - 1].Rank < held[i].Rank, "Locks are taken in increasing rank.");
        }
    }
}
