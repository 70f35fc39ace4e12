// Provided by the kata: complete, and identical in exercises/ and solutions/ (tests/Repo checks it). Do not change it.

namespace ConcurrencyKata;

/// <summary>
/// Thrown by <see cref="OrderedLock.Enter"/> and <see cref="OrderedLock.TryEnter"/> when a thread asks for a lock whose
/// rank is not above every lock it already holds: the first half of a possible deadlock, refused before it can
/// happen. <b>Provided by the kata, complete.</b>
/// </summary>
public sealed class LockOrderViolationException : Exception
{
    /// <summary>Creates the exception for a thread that asked for <paramref name="acquiring"/> (of rank
    /// <paramref name="acquiringRank"/>) while holding <paramref name="held"/> (of rank <paramref name="heldRank"/>).</summary>
    public LockOrderViolationException(string acquiring, long acquiringRank, string held, long heldRank)
        : base(
            $"Lock order violation: acquiring '{acquiring}' (rank {acquiringRank}) while holding '{held}' (rank {heldRank}) breaks " +
            "the declared order. A thread may only take locks of increasing rank; another thread taking the same two locks " +
            "the other way round would deadlock with this one.")
    {
        Acquiring = acquiring;
        AcquiringRank = acquiringRank;
        Held = held;
        HeldRank = heldRank;
    }

    /// <summary>Creates the exception with a message of your own.</summary>
    public LockOrderViolationException(string message)
        : base(message)
    {
        Acquiring = "";
        Held = "";
    }

    /// <summary>Creates the exception with a message of your own and the exception that caused it.</summary>
    public LockOrderViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Acquiring = "";
        Held = "";
    }

    /// <summary>Creates the exception with a default message.</summary>
    public LockOrderViolationException()
        : this("Lock order violation.")
    {
    }

    /// <summary>The name of the lock that was refused.</summary>
    public string Acquiring { get; }

    /// <summary>Its rank.</summary>
    public long AcquiringRank { get; }

    /// <summary>The name of a lock the thread already held whose rank is not below <see cref="AcquiringRank"/>
    /// (the highest-ranked one).</summary>
    public string Held { get; }

    /// <summary>Its rank.</summary>
    public long HeldRank { get; }
}
