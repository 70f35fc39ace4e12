// Provided by the kata: complete, and identical in exercises/ and solutions/ (tests/Repo checks it). Do not change it.

namespace ConcurrencyKata;

/// <summary>
/// A bank account: an Id, a balance and the lock that guards the balance. <b>Provided by the kata, complete.</b>
/// </summary>
/// <remarks>
/// <para><see cref="Balance"/> is shared state: read it and change it only while holding <see cref="Lock"/>, taken
/// with <c>account.Lock.Enter()</c> and released with <c>account.Lock.Exit()</c> in a <c>finally</c> (never
/// <c>lock (account)</c>: the tests must see every lock). The account itself does not check this; the tests do.</para>
/// <para><see cref="Id"/> is unique within a <see cref="Bank"/> and never changes, so it is a good key for the
/// global lock order. <see cref="KataLock.Id"/> is another.</para>
/// </remarks>
public sealed class Account
{
    /// <summary>The balance. Read and written through <see cref="Volatile"/> for Step 5's systematic tests only: there,
    /// Coyote may switch threads at every volatile access, which lets it find a balance read or changed without the
    /// lock (it does not instrument plain field accesses inside property accessors). Volatile makes nothing thread-safe:
    /// <see cref="Balance"/>'s callers still hold <see cref="Lock"/>.</summary>
    private long _balance;

    /// <summary>Opens an account with <paramref name="openingBalance"/> in it. Its lock is named after its Id.</summary>
    /// <param name="id">The account's unique, stable key, for example "A" or "alice".</param>
    /// <param name="openingBalance">The money in the account at the start; not negative.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is null, empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="openingBalance"/> is negative.</exception>
    public Account(string id, long openingBalance)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegative(openingBalance);
        Id = id;
        Balance = openingBalance;
        Lock = new KataLock(id);
    }

    /// <summary>The account's unique, stable key.</summary>
    public string Id { get; }

    /// <summary>The lock protecting <see cref="Balance"/>. Named after the account, so messages say "A", not "lock 7".</summary>
    public KataLock Lock { get; }

    /// <summary>The money in the account. Read and write it only while holding <see cref="Lock"/>; a bank never lets
    /// it go negative.</summary>
    public long Balance
    {
        get => Volatile.Read(ref _balance);
        set => Volatile.Write(ref _balance, value);
    }

    /// <summary>The account's <see cref="Id"/>.</summary>
    public override string ToString() => Id;
}
