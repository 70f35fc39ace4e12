using System.Diagnostics;

namespace ConcurrencyKata;

/// <summary>
/// Moves money between accounts, from many threads at once, without losing or creating any, without ever letting a
/// balance go negative, and without deadlocking.
/// </summary>
/// <remarks>
/// <para>Every account's <see cref="Account.Balance"/> is guarded by that account's own <see cref="Account.Lock"/>,
/// so transfers between different accounts run in parallel: there is no bank-wide lock.</para>
/// <para>A method that needs several accounts takes their locks in one global order, the same in every method and
/// every thread: by <see cref="OrderedLock.Rank"/>, which follows the accounts' Ids in ordinal order. Two transfers
/// that need the same two accounts then reach for the same lock first, so neither can hold one lock while waiting
/// for a lock the other holds: the wait-for graph never has a cycle. The order is enforced by a lock hierarchy
/// (<see cref="LockOf"/>), which throws instead of deadlocking if some code ever takes the locks the other way
/// round.</para>
/// <para>Every failure (a bad argument, an unknown account, insufficient funds, a timeout) leaves every balance as
/// it was and no lock held.</para>
/// </remarks>
public sealed class Bank
{
    /// <summary>Every account, by Id. Filled by the constructor and never changed, so reading it needs no lock.</summary>
    private readonly Dictionary<string, Account> _accounts;

    /// <summary>
    /// The locks protecting the accounts' balances, seen through the lock hierarchy: for each account Id, an
    /// <see cref="OrderedLock"/> that wraps that account's own <see cref="Account.Lock"/>, ranked by the position of
    /// the Id in ordinal order. Never changed after the constructor.
    /// </summary>
    private readonly Dictionary<string, OrderedLock> _locks;

    /// <summary>The same locks, by increasing rank: the order <see cref="TotalBalance"/> takes them in.</summary>
    private readonly OrderedLock[] _locksInOrder;

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

        // The global order: ordinal order of the Ids, which are unique and never change. Ordinal, not culture-aware:
        // the order must not depend on the machine's language settings.
        _locksInOrder = _accounts.Values
            .OrderBy(account => account.Id, StringComparer.Ordinal)
            .Select((account, rank) => new OrderedLock(account.Lock, rank))
            .ToArray();
        _locks = _locksInOrder.ToDictionary(ordered => ordered.Name, StringComparer.Ordinal);
    }

    /// <summary>The balance of one account.</summary>
    /// <param name="accountId">The account's Id.</param>
    /// <returns>Its balance, read while holding its lock.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="accountId"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The bank has no account with that Id.</exception>
    public long BalanceOf(string accountId)
    {
        Account account = Find(accountId, nameof(accountId));
        OrderedLock accountLock = _locks[account.Id];
        accountLock.Enter();
        try
        {
            return account.Balance;
        }
        finally
        {
            accountLock.Exit();
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
            // All the locks, in the same global order as Transfer: otherwise a transfer holding a later lock and
            // waiting for an earlier one would deadlock with this method.
            foreach (OrderedLock accountLock in _locksInOrder)
            {
                accountLock.Enter();
                taken++;
            }

            long total = 0;
            foreach (Account account in _accounts.Values)
            {
                total = checked(total + account.Balance);
            }

            return total;
        }
        finally
        {
            // Release what was taken, even if taking a later lock failed.
            for (int i = taken - 1; i >= 0; i--)
            {
                _locksInOrder[i].Exit();
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
        (Account source, Account target) = Validate(from, to, amount);
        (OrderedLock first, OrderedLock second) = InGlobalOrder(source, target);

        first.Enter();
        try
        {
            second.Enter();
            try
            {
                Move(source, target, amount);
            }
            finally
            {
                second.Exit();
            }
        }
        finally
        {
            // In finally: an InsufficientFundsException must not leave the lock held, or the next transfer touching
            // this account waits forever.
            first.Exit();
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
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout),
                timeout,
                "The timeout must be between TimeSpan.Zero and int.MaxValue milliseconds, or Timeout.InfiniteTimeSpan to wait without limit.");
        }

        (Account source, Account target) = Validate(from, to, amount);
        (OrderedLock first, OrderedLock second) = InGlobalOrder(source, target);

        // Still the global order: a timeout breaks a deadlock, but two opposite TryTransfers that each hold one
        // lock would both time out, retry, and collide again (a livelock). In order, they never hold one each.
        var clock = Stopwatch.StartNew();
        if (!first.TryEnter(timeout))
        {
            return false;
        }

        try
        {
            // The second lock gets what is left of the timeout, not the whole timeout again: the caller asked for
            // one limit on the whole call.
            TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan
                ? Timeout.InfiniteTimeSpan
                : Max(TimeSpan.Zero, timeout - clock.Elapsed);
            if (!second.TryEnter(remaining))
            {
                // The finally below releases the first lock: giving up must not keep anything.
                return false;
            }

            try
            {
                Move(source, target, amount);
                return true;
            }
            finally
            {
                second.Exit();
            }
        }
        finally
        {
            first.Exit();
        }
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
        Account account = Find(accountId, nameof(accountId));
        return _locks[account.Id];
    }

    /// <summary>Checks the arguments of a transfer before any lock is taken, so a rejected call changes nothing.</summary>
    private (Account Source, Account Target) Validate(string from, string to, long amount)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            // Rejected before locking: the same account twice would mean taking one (non-reentrant) lock twice.
            throw new ArgumentException($"A transfer from an account to itself ('{from}') is not allowed.", nameof(to));
        }

        return (Find(from, nameof(from)), Find(to, nameof(to)));
    }

    private Account Find(string accountId, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(accountId, parameterName);
        return _accounts.TryGetValue(accountId, out Account? account)
            ? account
            : throw new KeyNotFoundException($"The bank has no account with the Id '{accountId}'.");
    }

    /// <summary>The two accounts' locks, lowest rank first: the one global order.</summary>
    private (OrderedLock First, OrderedLock Second) InGlobalOrder(Account a, Account b)
    {
        OrderedLock lockA = _locks[a.Id];
        OrderedLock lockB = _locks[b.Id];
        return lockA.Rank < lockB.Rank ? (lockA, lockB) : (lockB, lockA);
    }

    /// <summary>Checks the balance and moves the money. The caller holds both accounts' locks, so the check and the
    /// change happen under one hold of the locks: nobody can spend the money between them.</summary>
    private static void Move(Account source, Account target, long amount)
    {
        if (source.Balance < amount)
        {
            throw new InsufficientFundsException(source.Id, source.Balance, amount);
        }

        // Both new values first: if the credit overflowed, nothing would have changed yet.
        long newSource = source.Balance - amount;
        long newTarget = checked(target.Balance + amount);
        source.Balance = newSource;
        target.Balance = newTarget;
        AssertInvariants(source, target);
    }

    /// <summary>Checks, in debug builds, what must hold after every change of balances: the changing thread holds
    /// both accounts' locks, and no balance is negative.</summary>
    [Conditional("DEBUG")]
    private static void AssertInvariants(Account source, Account target)
    {
        Debug.Assert(
            source.Lock.IsHeldByCurrentThread && target.Lock.IsHeldByCurrentThread,
            "Balances change only while the changing thread holds both accounts' locks.");
        Debug.Assert(source.Balance >= 0 && target.Balance >= 0, "A transfer never overdraws an account.");
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
