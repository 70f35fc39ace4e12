// Provided by the kata: complete, and identical in exercises/ and solutions/ (tests/Repo checks it). Do not change it.

namespace ConcurrencyKata;

/// <summary>
/// Watches every <see cref="KataLock"/> operation of the threads it was installed for (see
/// <see cref="KataLock.Observe"/>). <b>Provided by the kata for its tests</b>: your code never implements or calls it.
/// </summary>
/// <remarks>
/// Each method runs on the thread doing the operation, while that thread is inside <see cref="KataLock.Enter"/>,
/// <see cref="KataLock.TryEnter"/> or <see cref="KataLock.Exit"/>. The tests use it to record who holds and who waits
/// for which lock (to name the threads of a deadlock), and to pause a thread at a chosen point: right after its
/// first acquisition, say, so that the interleaving that deadlocks wrong code happens on every run, not by luck.
/// An observer must not throw, and must not take a <see cref="KataLock"/> itself.
/// </remarks>
public interface IKataLockObserver
{
    /// <summary>The current thread is about to wait for <paramref name="kataLock"/>.</summary>
    /// <param name="kataLock">The lock it asked for.</param>
    /// <param name="timeout">How long it will wait: <see cref="Timeout.InfiniteTimeSpan"/> for
    /// <see cref="KataLock.Enter"/>.</param>
    void Acquiring(KataLock kataLock, TimeSpan timeout);

    /// <summary>The current thread has just taken <paramref name="kataLock"/>.</summary>
    /// <param name="kataLock">The lock it now holds.</param>
    void Acquired(KataLock kataLock);

    /// <summary>The current thread's <see cref="KataLock.TryEnter"/> timed out: it does not hold
    /// <paramref name="kataLock"/>.</summary>
    /// <param name="kataLock">The lock it gave up on.</param>
    void GaveUp(KataLock kataLock);

    /// <summary>The current thread is about to release <paramref name="kataLock"/>.</summary>
    /// <param name="kataLock">The lock it still holds.</param>
    void Releasing(KataLock kataLock);
}
