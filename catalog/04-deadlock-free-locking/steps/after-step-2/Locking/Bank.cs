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
    /// <summary>Every account, by Id. Filled by the constructor and never changed, so reading it needs no lock. Each
    /// balance is guarded by its own <see cref="Account.Lock"/>.</summary>
    private readonly Dictionary<string, Account> _accounts;

    /// <summary>The same accounts in the global lock order: by Id, compared ordinally. Never changed after the
    /// constructor.</summary>
    private readonly Account[] _inLockOrder;

    // TODO (Step 4): one OrderedLock per account, wrapping account.Lock, ranked in that global order.

    /// <summary>Opens a bank that holds <paramref name="accounts"/>.</summary>
    /// <param name="accounts">The accounts; their Ids must be unique.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accounts"/> or one of them is null.</exception>
    /// <exception cref="ArgumentException">Two accounts have the same Id.</exception>
    public Bank(IEnumerable<Account> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        _accounts = new Dictionary<string, Account>(StringComparer.Ordinal);
        foreach (Account account in accounts)
        {
            ArgumentNullException.ThrowIfNull(account, nameof(accounts));
            if (!_accounts.TryAdd(account.Id, account))
            {
                throw new ArgumentException($"Two accounts have the Id '{account.Id}': an account's Id must be unique.", nameof(accounts));
            }
        }

        // The global order: ordinal order of the Ids, which are unique and never change.
        _inLockOrder = [.. _accounts.Values.OrderBy(account => account.Id, StringComparer.Ordinal)];

        // TODO (Step 4): build the lock hierarchy too.
    }

    /// <summary>The balance of one account.</summary>
    /// <param name="accountId">The account's Id.</param>
    /// <returns>Its balance, read while holding its lock.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="accountId"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with that Id.</exception>
    public long BalanceOf(string accountId)
    {
        Account account = Find(accountId, nameof(accountId));
        account.Lock.Enter();
        try
        {
            return account.Balance;
        }
        finally
        {
            account.Lock.Exit();
        }
    }

    /// <summary>The sum of every balance, as one consistent snapshot: the total at one instant, never a mix of
    /// before and after some transfer.</summary>
    /// <returns>The total, which transfers never change.</returns>
    /// <remarks>Holds every account's lock at once, taken in the global order, while it adds up.</remarks>
    public long TotalBalance()
    {
        int taken = 0;
        try
        {
            // Every lock, in the same global order as Transfer.
            foreach (Account account in _inLockOrder)
            {
                account.Lock.Enter();
                taken++;
            }

            long total = 0;
            foreach (Account account in _inLockOrder)
            {
                total = checked(total + account.Balance);
            }

            return total;
        }
        finally
        {
            // Release only the locks that were taken.
            for (int i = taken - 1; i >= 0; i--)
            {
                _inLockOrder[i].Lock.Exit();
            }
        }
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
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            throw new ArgumentException($"A transfer from an account to itself ('{from}') is not allowed.", nameof(to));
        }

        Account source = Find(from, nameof(from));
        Account target = Find(to, nameof(to));

        // TODO (Step 4): take the locks through the hierarchy (LockOf) instead of account.Lock.
        (Account first, Account second) = string.CompareOrdinal(source.Id, target.Id) < 0
            ? (source, target)
            : (target, source);
        first.Lock.Enter();
        try
        {
            second.Lock.Enter();
            try
            {
                // first/second is only the lock order; who pays is still source.
                if (source.Balance < amount)
                {
                    throw new InsufficientFundsException(source.Id, source.Balance, amount);
                }

                source.Balance -= amount;
                target.Balance += amount;
            }
            finally
            {
                second.Lock.Exit();
            }
        }
        finally
        {
            first.Lock.Exit();
        }
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
        // timeout. If a TryEnter returns false, release what you took and return false. Still in the global order.
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

    private Account Find(string accountId, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(accountId, parameterName);
        return _accounts.TryGetValue(accountId, out Account? account)
            ? account
            : throw new KeyNotFoundException($"The bank has no account with the Id '{accountId}'.");
    }
}
