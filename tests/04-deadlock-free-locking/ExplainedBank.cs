namespace ConcurrencyKata.Tests.Locking;

/// <summary>
/// The learner's <see cref="Bank"/>, as Steps 1–3 call it: every call is forwarded unchanged, and a
/// <see cref="LockOrderViolationException"/> that comes out of it is explained first. From Step 4 on, the bank takes its
/// locks through the lock hierarchy, and a mistake in the hierarchy makes the tests of Steps 1–3 fail too, with a bare
/// "Lock order violation". That is where a learner looks first, so the message must say which rule broke.
/// </summary>
/// <remarks>
/// The explanation is worked out in an exception filter, which runs on the calling thread at the moment of the throw,
/// before any <c>finally</c> of the learner's code has released anything: it sees exactly which locks the thread held
/// when the hierarchy refused. A refusal because of a lock the thread really holds is a lock taken against the order;
/// a refusal because of a lock it does not hold is a wrong record of what the thread holds.
/// </remarks>
internal sealed class ExplainedBank(Bank bank)
{
    /// <summary>The learner's bank itself.</summary>
    public Bank Bank { get; } = bank;

    /// <inheritdoc cref="Bank.BalanceOf"/>
    public long BalanceOf(string accountId) => Explained(() => Bank.BalanceOf(accountId));

    /// <inheritdoc cref="Bank.TotalBalance"/>
    public long TotalBalance() => Explained(Bank.TotalBalance);

    /// <inheritdoc cref="Bank.Transfer"/>
    public void Transfer(string from, string to, long amount) => Explained(() =>
    {
        Bank.Transfer(from, to, amount);
        return 0;
    });

    /// <inheritdoc cref="Bank.TryTransfer"/>
    public bool TryTransfer(string from, string to, long amount, TimeSpan timeout) =>
        Explained(() => Bank.TryTransfer(from, to, amount, timeout));

    /// <summary>Why the hierarchy refused a lock, in the learner's terms, judged on the thread that was refused while
    /// it still holds what it held. <paramref name="heldLock"/> is the KataLock of the lock the hierarchy counted as
    /// held, if known.</summary>
    public static string Why(LockOrderViolationException refusal, KataLock? heldLock)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        if (heldLock is not null && heldLock.IsHeldByCurrentThread)
        {
            return $"The lock hierarchy refused '{refusal.Acquiring}' because this thread holds '{refusal.Held}', which does not rank below " +
                   $"it: the call took '{refusal.Held}' first and then asked for '{refusal.Acquiring}', against the order of the ranks. " +
                   "Acquire locks in one global order, the hierarchy's (LockOf(id).Rank), in every method of the bank.";
        }

        string who = heldLock?.Owner is { } owner
            ? $"thread '{owner.Name ?? "#" + owner.ManagedThreadId}' does"
            : heldLock is null ? "as far as the test can tell" : "no thread does";
        return $"The lock hierarchy refused '{refusal.Acquiring}' because it counts '{refusal.Held}' as held by this thread, but this " +
               $"thread does not hold '{refusal.Held}' ({who}). Its record of the locks this thread holds is wrong, and a wrong record " +
               "refuses correct code: keep one record per thread (the hierarchy is per thread); record a lock only once it is " +
               "really taken (not when TryEnter returns false, nor when Enter throws); and forget it when it is released, through " +
               "OrderedLock.Exit (never the KataLock's own Exit). A failed or refused acquisition must leave no trace.";
    }

    private T Explained<T>(Func<T> call)
    {
        string? why = null;
        try
        {
            return call();
        }
        catch (LockOrderViolationException refusal) when ((why = Why(refusal, HeldLockOf(refusal))) is not null)
        {
            throw new LockOrderViolationException($"{why} [{refusal.Message}]", refusal);
        }
    }

    /// <summary>The KataLock of the account lock the hierarchy counted as held, through the learner's own LockOf (the
    /// only thing that can throw a LockOrderViolationException has it); null if it cannot tell.</summary>
    private KataLock? HeldLockOf(LockOrderViolationException refusal)
    {
        try
        {
            return Bank.LockOf(refusal.Held).Lock;
        }
#pragma warning disable CA1031 // Any failure only means "cannot tell": the explanation then stays general.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
