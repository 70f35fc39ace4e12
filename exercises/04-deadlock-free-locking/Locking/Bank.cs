namespace ConcurrencyKata;

/// <summary>
/// Moves money between accounts, from many threads at once, without losing or creating any, without ever letting a
/// balance go negative, and without deadlocking.
/// </summary>
/// <remarks>
/// <para>Every account's <see cref="Account.Balance"/> is guarded by that account's own <see cref="Account.Lock"/>,
/// so transfers between different accounts run in parallel: there is no bank-wide lock.</para>
/// <para>A method that needs several accounts takes their locks in one global order, the same in every method and
/// every thread. Two transfers that need the same two accounts then reach for the same lock first, so neither can
/// hold one lock while waiting for a lock the other holds: the wait-for graph never has a cycle. From Step 4 on, the
/// order is enforced by a lock hierarchy (<see cref="LockOf"/>), which throws instead of deadlocking if some code
/// ever takes the locks the other way round.</para>
/// <para>Every failure (a bad argument, an unknown account, insufficient funds, a timeout) leaves every balance as
/// it was and no lock held.</para>
/// <para>Take account locks only through <see cref="KataLock"/>: <c>account.Lock.Enter()</c> and
/// <c>account.Lock.Exit()</c> in a <c>finally</c> (from Step 4: <c>LockOf(id).Enter()</c>/<c>Exit()</c>), never
/// <c>lock (account)</c>. The tests see KataLocks only.</para>
/// </remarks>
public sealed class Bank
{
    // TODO (Step 1): the accounts, by Id (a Dictionary<string, Account> with StringComparer.Ordinal). It never changes
    // after the constructor, so reading it needs no lock. Each balance is guarded by its own account.Lock.
    // TODO (Step 1): decide on the global lock order: a unique, stable key (the Id, compared ordinally, is one).
    // TODO (Step 4): one OrderedLock per account, wrapping account.Lock, ranked in that global order.

    /// <summary>Opens a bank that holds <paramref name="accounts"/>.</summary>
    /// <param name="accounts">The accounts; their Ids must be unique.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accounts"/> or one of them is null.</exception>
    /// <exception cref="ArgumentException">Two accounts have the same Id.</exception>
    public Bank(IEnumerable<Account> accounts)
    {
        // TODO (Step 1): validate, then keep the accounts by Id. (Step 4): build the lock hierarchy too.
        throw new NotImplementedException("Step 1 (exercise 04): implement the Bank constructor. See Step 1 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>The balance of one account.</summary>
    /// <param name="accountId">The account's Id.</param>
    /// <returns>Its balance, read while holding its lock.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="accountId"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with that Id.</exception>
    public long BalanceOf(string accountId)
    {
        // TODO (Step 1): read the balance while holding the account's lock.
        throw new NotImplementedException("Step 1 (exercise 04): implement BalanceOf. See Step 1 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>The sum of every balance, as one consistent snapshot: the total at one instant, never a mix of
    /// before and after some transfer.</summary>
    /// <returns>The total, which transfers never change.</returns>
    /// <remarks>Holds every account's lock at once, taken in the global order, while it adds up.</remarks>
    public long TotalBalance()
    {
        // TODO (Step 1): take every account's lock, in the global order; add up; release them all in a finally.
        throw new NotImplementedException("Step 1 (exercise 04): implement TotalBalance. See Step 1 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>Moves <paramref name="amount"/> from account <paramref name="from"/> to account <paramref name="to"/>,
    /// waiting as long as it takes for both accounts' locks.</summary>
    /// <param name="from">The Id of the paying account.</param>
    /// <param name="to">The Id of the receiving account; not <paramref name="from"/>.</param>
    /// <param name="amount">How much; at least 1.</param>
    /// <remarks>Takes the two account locks in the global order, whatever the order of the arguments, so two
    /// opposite transfers never deadlock. On every exception, nothing has changed and no lock is held.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="from"/> or <paramref name="to"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is zero or negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="from"/> and <paramref name="to"/> are the same account.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with Id <paramref name="from"/> or <paramref name="to"/>.</exception>
    /// <exception cref="InsufficientFundsException">Account <paramref name="from"/> holds less than <paramref name="amount"/>.</exception>
    public void Transfer(string from, string to, long amount)
    {
        // TODO (Step 1): validate everything before taking any lock; take both account locks in the global order;
        // check the balance and move the money under both locks; release both in finally blocks, one try/finally per
        // lock, each right after its own Enter (Enter can throw too: a failed second Enter must not keep the first lock).
        // TODO (Step 4): take and release the locks through the hierarchy (LockOf(id).Enter() and .Exit()) instead of
        // account.Lock.
        throw new NotImplementedException("Step 1 (exercise 04): implement Transfer. See Step 1 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>Like <see cref="Transfer"/>, but gives up if it cannot get both account locks within
    /// <paramref name="timeout"/> (for example because another thread holds one of them for a long time).</summary>
    /// <param name="from">The Id of the paying account.</param>
    /// <param name="to">The Id of the receiving account; not <paramref name="from"/>.</param>
    /// <param name="amount">How much; at least 1.</param>
    /// <param name="timeout">How long to wait for both locks together: <see cref="TimeSpan.Zero"/> does not wait at
    /// all, <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <returns><see langword="true"/> if the money moved; <see langword="false"/> if a lock was still held by
    /// another thread when the timeout ran out. Then nothing has changed and this call holds no lock.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="from"/> or <paramref name="to"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is zero or negative, or
    /// <paramref name="timeout"/> is negative (other than <see cref="Timeout.InfiniteTimeSpan"/>) or longer than
    /// <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="ArgumentException"><paramref name="from"/> and <paramref name="to"/> are the same account.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with Id <paramref name="from"/> or <paramref name="to"/>.</exception>
    /// <exception cref="InsufficientFundsException">Account <paramref name="from"/> holds less than <paramref name="amount"/>.</exception>
    public bool TryTransfer(string from, string to, long amount, TimeSpan timeout)
    {
        // TODO (Step 3): like Transfer, with TryEnter instead of Enter. Give the second lock what is left of the
        // timeout: never below TimeSpan.Zero, and Timeout.InfiniteTimeSpan passes on unchanged (it is a marker, not a
        // duration). Check and compute with the TimeSpan itself, never a copy rounded to whole milliseconds. If a
        // TryEnter returns false, release what you took and return false. Still in the global order.
        throw new NotImplementedException("Step 3 (exercise 04): implement TryTransfer. See Step 3 in exercises/04-deadlock-free-locking/README.md.");
    }

    /// <summary>The lock hierarchy's view of one account's lock: an <see cref="OrderedLock"/> wrapping
    /// <see cref="Account.Lock"/>, ranked in the bank's global order. Every method of the bank takes account locks
    /// through these, so taking them out of order throws instead of deadlocking.</summary>
    /// <param name="accountId">The account's Id.</param>
    /// <returns>The same <see cref="OrderedLock"/> on every call for the same account.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="accountId"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with that Id.</exception>
    public OrderedLock LockOf(string accountId)
    {
        // TODO (Step 4): return the account's OrderedLock, built once in the constructor.
        throw new NotImplementedException("Step 4 (exercise 04): implement LockOf. See Step 4 in exercises/04-deadlock-free-locking/README.md.");
    }
}
